import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { save } from "@tauri-apps/plugin-dialog";
import History from "./History.svelte";
import { api } from "../lib/api";
import { ui } from "../lib/app.svelte";
import { at, lab } from "../lib/fixtures";
import { awsLeftovers, awsSetup, commandError, otherLab, runSummary, summaryRow } from "./fixtures";
import type { RunSummary } from "../bindings/RunSummary";
import type { SummaryRow } from "../bindings/SummaryRow";

// Every command is a mock; errorText stays the real one.
vi.mock("../lib/api", async (importOriginal) => {
  const real = await importOriginal<typeof import("../lib/api")>();
  return { ...real, api: Object.fromEntries(Object.keys(real.api).map((k) => [k, vi.fn()])) };
});
vi.mock("@tauri-apps/plugin-dialog", () => ({ save: vi.fn() }));

let onopen: ReturnType<typeof vi.fn<(runId: string) => void>>;
let onresume: ReturnType<typeof vi.fn<(runId: string) => void>>;

beforeEach(() => {
  ui.labs = [lab, otherLab];
  ui.error = null;
  onopen = vi.fn<(runId: string) => void>();
  onresume = vi.fn<(runId: string) => void>();
  vi.mocked(api.history).mockResolvedValue([]);
  vi.mocked(api.summary).mockResolvedValue([]);
  vi.mocked(api.missedQuestions).mockResolvedValue([]);
  vi.mocked(api.exportSummary).mockResolvedValue();
  vi.mocked(api.awsSetup).mockResolvedValue(awsSetup);
});

afterEach(() => {
  cleanup();
  vi.clearAllMocks();
});

const passed = runSummary({ id: "run-1", outcome: "passed", steps_passed: 9, steps_total: 9, finished_at: at(95) });
const failed = runSummary({ id: "run-2", outcome: "failed", steps_passed: 6, steps_total: 9, finished_at: at(61.6), learner: "bob", target_label: "LocalStack at http://localhost:4566" });
const interrupted = runSummary({ id: "run-3", outcome: "interrupted", steps_passed: 3, steps_total: 9, finished_at: null });
const running = runSummary({ id: "run-4", outcome: "running", steps_passed: 1, steps_total: 9, finished_at: null });

/** Shows History with these records, once they have loaded. */
async function show(runs: RunSummary[] = [], rows: SummaryRow[] = []) {
  vi.mocked(api.history).mockResolvedValue(runs);
  vi.mocked(api.summary).mockResolvedValue(rows);
  const user = userEvent.setup();
  render(History, { props: { onopen, onresume } });
  await waitFor(() => expect(api.summary).toHaveBeenCalled());
  if (runs.length) await screen.findByText(runs[0].id);
  if (rows.length) await waitFor(() => expect(summaryRows()).toHaveLength(rows.length));
  return user;
}

const runRow = (id: string) => screen.getByTestId("history").querySelector<HTMLElement>(`tr[data-run="${id}"]`)!;
const cells = (tr: HTMLElement) => [...tr.querySelectorAll("td")].map((td) => td.textContent!.trim());
const summaryRows = () => [...screen.getByTestId("instructor-summary").querySelectorAll<HTMLElement>("tbody tr")];

describe("History: loading", () => {
  it("asks for every run and the summary, unfiltered", async () => {
    await show();
    expect(api.history).toHaveBeenCalledWith(null, null);
    expect(api.summary).toHaveBeenCalledWith(null, null);
  });

  it("keeps the rows shown while it reads the record again", async () => {
    const user = await show([passed]);
    vi.mocked(api.history).mockReturnValue(new Promise(() => {}));
    await user.click(screen.getByRole("button", { name: "Refresh" }));
    expect(api.history).toHaveBeenCalledTimes(2);
    expect(runRow("run-1")).toBeTruthy();
    expect(screen.queryByText(/No runs recorded yet/)).toBeNull();
  });

  it("says there is no run yet when the record is empty", async () => {
    await show();
    const body = screen.getByTestId("history").querySelector("tbody")!;
    expect(body.querySelectorAll("tr")).toHaveLength(1);
    expect(body.textContent).toContain("No runs recorded yet. Start one from the start screen.");
    expect(summaryRows()).toHaveLength(0);
  });

  it("shows a failed load as the app's error", async () => {
    vi.mocked(api.history).mockRejectedValue(commandError("the record at /home/ann/.local/share/snaplab/snaplab.db is locked"));
    render(History, { props: { onopen, onresume } });
    await waitFor(() => expect(ui.error).toContain("is locked"));
  });

  it("Refresh reads the record again", async () => {
    const user = await show();
    vi.mocked(api.history).mockResolvedValue([passed]);
    await user.click(screen.getByRole("button", { name: "Refresh" }));
    expect(api.history).toHaveBeenCalledTimes(2);
    expect(await screen.findByText("run-1")).toBeTruthy();
  });
});

describe("History: the runs", () => {
  it("shows a row per run with its learner, target, duration, outcome and steps", async () => {
    await show([passed, failed]);
    const [id, learner, labId, target, , duration, outcome, steps] = cells(runRow("run-2"));
    expect([id, learner, labId, target, duration, outcome, steps]).toEqual(["run-2", "bob", lab.id, "LocalStack at http://localhost:4566", "62 s", "failed", "6/9"]);
    expect(cells(runRow("run-1"))[5]).toBe("95 s");
    expect(screen.queryByText(/No runs recorded yet/)).toBeNull();
  });

  it("gives each outcome its badge, and an unfinished run no duration", async () => {
    await show([passed, failed, interrupted, running]);
    for (const r of [passed, failed, interrupted, running]) {
      const badge = runRow(r.id).querySelector(".badge")!;
      expect(badge.textContent).toBe(r.outcome);
      expect(badge.classList.contains(r.outcome)).toBe(true);
    }
    expect(cells(runRow("run-3"))[5]).toBe("—");
    expect(cells(runRow("run-4"))[5]).toBe("—");
  });

  it("offers Resume for interrupted runs only", async () => {
    await show([passed, failed, interrupted, running]);
    expect(screen.getAllByRole("button", { name: /^Resume/ })).toHaveLength(1);
    expect(within(runRow("run-3")).getByRole("button", { name: "Resume run-3" })).toBeTruthy();
    for (const id of ["run-1", "run-2", "run-4"]) {
      expect(within(runRow(id)).queryByRole("button", { name: /Resume/ })).toBeNull();
      expect(within(runRow(id)).getByRole("button", { name: `Open results of ${id}` })).toBeTruthy();
    }
  });

  it("Open opens that run's results; Resume resumes that run", async () => {
    const user = await show([passed, interrupted]);
    await user.click(screen.getByRole("button", { name: "Open results of run-1" }));
    expect(onopen).toHaveBeenCalledWith("run-1");
    await user.click(screen.getByRole("button", { name: "Resume run-3" }));
    expect(onresume).toHaveBeenCalledWith("run-3");
    expect(onresume).toHaveBeenCalledTimes(1);
    expect(onopen).toHaveBeenCalledTimes(1);
  });
});

describe("History: filters", () => {
  it("offers any lab or each known lab", async () => {
    await show();
    const select = screen.getByLabelText("Lab") as HTMLSelectElement;
    expect([...select.options].map((o) => [o.value, o.textContent])).toEqual([
      ["", "any"],
      [lab.id, lab.title],
      [otherLab.id, otherLab.title],
    ]);
    expect(select.value).toBe("");
  });

  it("reads the record again for the learner typed and the lab chosen", async () => {
    const user = await show([passed, failed]);
    await user.type(screen.getByLabelText("Learner"), "bob");
    await waitFor(() => expect(api.history).toHaveBeenLastCalledWith("bob", null));
    expect(api.summary).toHaveBeenLastCalledWith("bob", null);
    await user.selectOptions(screen.getByLabelText("Lab"), otherLab.id);
    await waitFor(() => expect(api.history).toHaveBeenLastCalledWith("bob", otherLab.id));
    expect(api.summary).toHaveBeenLastCalledWith("bob", otherLab.id);
    await user.clear(screen.getByLabelText("Learner"));
    await waitFor(() => expect(api.history).toHaveBeenLastCalledWith(null, otherLab.id));
  });

  it("shows what the filtered query returned", async () => {
    const user = await show([passed, failed]);
    vi.mocked(api.history).mockImplementation(async (learner) => [passed, failed].filter((r) => !learner || r.learner === learner));
    await user.type(screen.getByLabelText("Learner"), "bob");
    await waitFor(() => expect(screen.queryByText("run-1")).toBeNull());
    expect(screen.getByText("run-2")).toBeTruthy();
  });

  it("shows the answer to the latest filter even when an earlier one answers last", async () => {
    const user = await show([passed, failed]);
    const answers: Record<string, (runs: RunSummary[]) => void> = {};
    vi.mocked(api.history).mockImplementation((learner) => new Promise((resolve) => (answers[learner ?? ""] = resolve)));
    await user.type(screen.getByLabelText("Learner"), "bo");
    await waitFor(() => expect(Object.keys(answers)).toEqual(["b", "bo"]));
    answers["bo"]([failed]);
    await waitFor(() => expect(screen.queryByText("run-1")).toBeNull());
    answers["b"]([passed, failed]); // the answer to "b", late
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(screen.queryByText("run-1")).toBeNull();
    expect(screen.getByText("run-2")).toBeTruthy();
  });
});

describe("History: instructor summary", () => {
  it("shows a row per learner and lab, with a dash for a run never finished", async () => {
    await show([], [
      summaryRow({ learner: "ann", runs: 3, passed_runs: 2, last_outcome: "passed", last_duration_s: 95.4, best_steps_passed: 9, quiz_correct: 4, quiz_asked: 6 }),
      summaryRow({ learner: "bob", runs: 1, passed_runs: 0, last_outcome: "interrupted", last_duration_s: null, best_steps_passed: 3 }),
    ]);
    const [ann, bob] = summaryRows();
    expect(cells(ann)).toEqual(["ann", lab.id, "3", "2", "passed", "95 s", "9/9", "4/6"]);
    expect(cells(bob)).toEqual(["bob", lab.id, "1", "0", "interrupted", "—", "3/9", "—"]);
    expect(bob.querySelector(".badge")!.classList.contains("interrupted")).toBe(true);
  });

  it("lists the knowledge checks missed most, with how often, and none when none was missed", async () => {
    await show([runSummary({ quiz_correct: 5, quiz_asked: 6 })], []);
    expect(screen.getByTestId("quiz-run-1").textContent).toBe("5/6");
    expect(screen.queryByTestId("missed-questions")).toBeNull();
    cleanup();
    vi.mocked(api.missedQuestions).mockResolvedValue([
      { lab: lab.id, question_id: "detach-while-pending", prompt: "You cannot detach a volume while its snapshot is pending.", missed: 3, asked: 4 },
      { lab: lab.id, question_id: "monitoring", prompt: "How does EBS report a failed snapshot?", missed: 1, asked: 4 },
    ]);
    await show([], []);
    const items = [...within(await screen.findByTestId("missed-questions")).getAllByRole("listitem")].map((li) => li.textContent);
    expect(items[0]).toContain("3 of 4 missed");
    expect(items[0]).toContain("You cannot detach");
    expect(items).toHaveLength(2);
    expect(api.missedQuestions).toHaveBeenLastCalledWith(null, null);
  });

  it("Export CSV asks where, then exports the filtered summary there", async () => {
    vi.mocked(save).mockResolvedValue("/home/ann/summary.csv");
    const user = await show();
    await user.type(screen.getByLabelText("Learner"), "ann");
    await user.click(screen.getByTestId("export-csv"));
    expect(save).toHaveBeenCalledWith({
      title: "Save the instructor summary",
      defaultPath: "snaplab-summary.csv",
      filters: [{ name: "CSV", extensions: ["csv"] }],
    });
    expect(api.exportSummary).toHaveBeenCalledWith("ann", null, "/home/ann/summary.csv");
    expect((await screen.findByRole("status")).textContent).toBe("Saved to /home/ann/summary.csv");
  });

  it("exports nothing when the dialog is cancelled", async () => {
    vi.mocked(save).mockResolvedValue(null);
    const user = await show();
    await user.click(screen.getByTestId("export-csv"));
    expect(save).toHaveBeenCalledTimes(1);
    expect(api.exportSummary).not.toHaveBeenCalled();
    expect(screen.queryByRole("status")).toBeNull();
  });

  it("shows a failed export as the app's error, not as saved", async () => {
    vi.mocked(save).mockResolvedValue("/read-only/s.csv");
    vi.mocked(api.exportSummary).mockRejectedValue(commandError("cannot write /read-only/s.csv: permission denied"));
    const user = await show();
    await user.click(screen.getByTestId("export-csv"));
    await waitFor(() => expect(ui.error).toContain("permission denied"));
    expect(screen.queryByRole("status")).toBeNull();
  });
});

describe("History: clean up", () => {
  const leftBehind = runSummary({ id: "run-5", outcome: "interrupted", resources_left: 2, finished_at: null });

  it("offers Clean up only for runs that left resources and are not running", async () => {
    await show([passed, leftBehind, runSummary({ id: "run-6", outcome: "running", resources_left: 1, finished_at: null })]);
    expect(screen.getByTestId("clean-up-run-5").getAttribute("aria-label")).toBe(
      "Clean up run-5: delete the 2 snapshots and volumes it left",
    );
    expect(screen.queryByTestId("clean-up-run-1")).toBeNull();
    expect(screen.queryByTestId("clean-up-run-6")).toBeNull();
  });

  it("cleans up through the app, says what it did and loads the list again", async () => {
    const user = await show([leftBehind]);
    vi.mocked(api.cleanUpRun).mockResolvedValue({ deleted: 2, left: 2, message: "Deleted all 2 resources run run-5 left behind." });
    vi.mocked(api.history).mockResolvedValue([{ ...leftBehind, resources_left: 0 }]);
    await user.click(screen.getByTestId("clean-up-run-5"));
    expect(api.cleanUpRun).toHaveBeenCalledWith("run-5");
    expect((await screen.findByTestId("cleaned")).textContent).toBe("Deleted all 2 resources run run-5 left behind.");
    await waitFor(() => expect(screen.queryByTestId("clean-up-run-5")).toBeNull());
  });

  it("shows why a clean-up failed", async () => {
    const user = await show([leftBehind]);
    vi.mocked(api.cleanUpRun).mockRejectedValue(commandError("cannot reach http://localhost:4566: …", "unreachable"));
    await user.click(screen.getByTestId("clean-up-run-5"));
    await waitFor(() => expect(ui.error).toBe("cannot reach http://localhost:4566: …"));
    expect(screen.queryByTestId("cleaned")).toBeNull();
    expect((screen.getByTestId("clean-up-run-5") as HTMLButtonElement).disabled).toBe(false);
  });
});

describe("History: keyboard", () => {
  it("finds the filters by their labels and reaches Refresh, the tables and a run's buttons with Tab", async () => {
    const user = await show([interrupted]);
    await user.tab();
    expect(document.activeElement).toBe(screen.getByLabelText("Learner"));
    await user.tab();
    expect(document.activeElement).toBe(screen.getByLabelText("Lab"));
    await user.tab();
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Refresh" }));
    await user.tab();
    expect(document.activeElement).toBe(screen.getByRole("region", { name: "Recorded runs" }));
    await user.tab();
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Open results of run-3" }));
    await user.tab();
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Resume run-3" }));
    await user.keyboard("{Enter}");
    expect(onresume).toHaveBeenCalledWith("run-3");
    await user.tab();
    expect(document.activeElement).toBe(screen.getByTestId("export-csv"));
    await user.tab();
    expect(document.activeElement).toBe(screen.getByRole("region", { name: "Instructor summary" }));
  });

  it("opens a run's results with Space", async () => {
    const user = await show([passed]);
    screen.getByRole("button", { name: "Open results of run-1" }).focus();
    await user.keyboard(" ");
    expect(onopen).toHaveBeenCalledWith("run-1");
  });
});

describe("History: runs on AWS", () => {
  const onAws = runSummary({
    id: "run-9",
    outcome: "interrupted",
    target_kind: "aws",
    target_label: "AWS eu-west-1",
    resources_left: 2,
    finished_at: null,
  });

  it("offers Resume and Clean up for a run on AWS that was killed, neither for one whose stop deleted what it made", async () => {
    const stopped = runSummary({ ...onAws, id: "run-8", resources_left: 0 });
    await show([onAws, stopped]);
    expect(within(runRow("run-9")).queryByRole("button", { name: /Resume/ })).toBeTruthy();
    expect(screen.getByTestId("clean-up-run-9")).toBeTruthy();
    expect(within(runRow("run-8")).queryByRole("button", { name: /Resume/ })).toBeNull();
    expect(screen.queryByTestId("clean-up-run-8")).toBeNull();
  });

  it("Clean up lists what carries the run's tags and deletes only once the learner agrees", async () => {
    vi.mocked(api.awsLeftovers).mockResolvedValue(awsLeftovers());
    vi.mocked(api.cleanUpRun).mockResolvedValue({ deleted: 2, left: 2, message: "Deleted all 2 resources run run-9 left behind." });
    ui.awsLeftBehind = ["run-9"];
    const user = await show([onAws]);
    await user.click(screen.getByTestId("clean-up-run-9"));
    expect(api.awsLeftovers).toHaveBeenCalledWith(null, "run-9");
    const dialog = await screen.findByRole("dialog", { name: "Delete what run run-9 left in AWS?" });
    expect(dialog.textContent).toContain("i-0abc");
    expect(dialog.textContent).toContain("vol-0def");
    await user.click(screen.getByTestId("confirm-clean-up-cancel"));
    expect(api.cleanUpRun).not.toHaveBeenCalled();
    await user.click(screen.getByTestId("clean-up-run-9"));
    await user.click(await screen.findByTestId("confirm-clean-up-confirm"));
    expect(api.cleanUpRun).toHaveBeenCalledWith("run-9");
    expect((await screen.findByTestId("cleaned")).textContent).toBe("Deleted all 2 resources run run-9 left behind.");
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(ui.awsLeftBehind).toEqual([]);
  });

  it("finds every snaplab resource in the account chosen, and deletes them all only after asking", async () => {
    vi.mocked(api.awsLeftovers).mockResolvedValue(awsLeftovers());
    vi.mocked(api.awsDeleteLeftovers).mockResolvedValue({ deleted: 2, left: 2, message: "Deleted 2; nothing tagged by snaplab is left in eu-west-1." });
    const user = await show([]);
    await waitFor(() => expect(screen.getByTestId("sweep-profile").querySelectorAll("option")).toHaveLength(4));
    await user.selectOptions(screen.getByTestId("sweep-profile"), "lab");
    await user.click(screen.getByTestId("find-leftovers"));
    expect(api.awsLeftovers).toHaveBeenCalledWith({ profile: "lab", region: null }, null);
    const list = await screen.findByTestId("leftovers");
    expect([...list.querySelectorAll("li")].map((li) => li.dataset.id)).toEqual(["i-0abc", "vol-0def"]);
    await user.click(screen.getByTestId("delete-leftovers"));
    expect(api.awsDeleteLeftovers).not.toHaveBeenCalled();
    await user.click(screen.getByRole("button", { name: "Delete them" }));
    expect(api.awsDeleteLeftovers).toHaveBeenCalledWith({ profile: "lab", region: null });
    expect((await screen.findByTestId("leftovers-deleted")).textContent).toContain("nothing tagged by snaplab is left");
    expect(screen.queryByTestId("leftovers")).toBeNull();
  });

  it("says so when nothing is left", async () => {
    vi.mocked(api.awsLeftovers).mockResolvedValue(awsLeftovers({ items: [] }));
    const user = await show([]);
    await user.click(screen.getByTestId("find-leftovers"));
    expect((await screen.findByTestId("leftovers-none")).textContent).toBe("Nothing tagged by snaplab is left in eu-west-1.");
    expect(screen.queryByTestId("delete-leftovers")).toBeNull();
  });
});
