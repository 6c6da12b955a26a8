import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { save } from "@tauri-apps/plugin-dialog";
import Results from "./Results.svelte";
import { api } from "../lib/api";
import { ui } from "../lib/app.svelte";
import { at, context } from "../lib/fixtures";
import { commandError, runReport, stepRow, verification } from "./fixtures";
import type { RunReport } from "../bindings/RunReport";

// Every command is a mock; errorText stays the real one.
vi.mock("../lib/api", async (importOriginal) => {
  const real = await importOriginal<typeof import("../lib/api")>();
  return { ...real, api: Object.fromEntries(Object.keys(real.api).map((k) => [k, vi.fn()])) };
});
vi.mock("@tauri-apps/plugin-dialog", () => ({ save: vi.fn() }));

beforeEach(() => {
  ui.error = null;
  vi.mocked(api.exportReport).mockResolvedValue();
});

afterEach(() => {
  cleanup();
  vi.clearAllMocks();
});

/** Shows the results of run-1, whose record is `report`, once it has loaded. */
async function show(report: RunReport = runReport()) {
  vi.mocked(api.runReport).mockResolvedValue(report);
  const user = userEvent.setup();
  render(Results, { props: { runId: report.id } });
  await screen.findByRole("heading", { name: `Results · ${report.id}` });
  return user;
}

const figure = (id: string) => screen.getByTestId(id);
const isBad = (id: string) => figure(id).closest(".figure")!.classList.contains("bad");

describe("Results: loading", () => {
  it("reads the run's record and says so meanwhile", async () => {
    vi.mocked(api.runReport).mockReturnValue(new Promise(() => {}));
    render(Results, { props: { runId: "run-7" } });
    expect(api.runReport).toHaveBeenCalledWith("run-7");
    expect(screen.getByText("Reading the record…")).toBeTruthy();
    expect(screen.queryByTestId("verification-summary")).toBeNull();
  });

  it("shows why the record could not be read", async () => {
    vi.mocked(api.runReport).mockRejectedValue(commandError("no run run-7 in /home/ann/.local/share/snaplab/snaplab.db"));
    render(Results, { props: { runId: "run-7" } });
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("no run run-7");
    expect(screen.queryByText("Reading the record…")).toBeNull();
  });

  it("reads the other run's record when the run changes", async () => {
    vi.mocked(api.runReport).mockImplementation(async (id) => runReport({ id }));
    const { rerender } = render(Results, { props: { runId: "run-1" } });
    await screen.findByRole("heading", { name: "Results · run-1" });
    await rerender({ runId: "run-2" });
    await screen.findByRole("heading", { name: "Results · run-2" });
    expect(api.runReport).toHaveBeenLastCalledWith("run-2");
  });

  it("never shows a record that arrives after the run changed", async () => {
    const pending: Record<string, (r: RunReport) => void> = {};
    vi.mocked(api.runReport).mockImplementation((id) => new Promise((resolve) => (pending[id] = resolve)));
    const { rerender } = render(Results, { props: { runId: "run-1" } });
    await rerender({ runId: "run-2" });
    pending["run-2"](runReport({ id: "run-2" }));
    await screen.findByRole("heading", { name: "Results · run-2" });
    pending["run-1"](runReport({ id: "run-1" }));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(screen.getByRole("heading", { name: /^Results/ }).textContent).toBe("Results · run-2");
  });
});

describe("Results: the run", () => {
  it("heads the page with the run's outcome and settings", async () => {
    await show(runReport({ outcome: "failed", steps_passed: 7, steps_total: 9, learner: "bob", target_label: "moto at http://localhost:5000", mode: "hands-on", consistency: "app" }));
    const head = screen.getByRole("heading", { name: "Results · run-1" }).closest("header")!;
    const badge = head.querySelector(".badge")!;
    expect(badge.textContent).toBe("failed");
    expect(badge.classList.contains("failed")).toBe(true);
    expect(head.textContent).toContain("7 of 9 steps passed · bob · moto at http://localhost:5000 · hands-on · app");
  });
});

describe("Results: commands typed in the terminal", () => {
  it("lists each step's commands with their exit status beside its checks", async () => {
    await show(
      runReport({
        steps: [
          stepRow({ step_id: "start-shop", title: "Open the shop" }),
          stepRow({
            commands: [
              { command: "aws ec2 create-snapshot --volume-id vol-1", exit_status: 0, started_at: at(11), finished_at: at(12) },
              { command: "aws ec2 describe-snapshots --snapshot-ids snap-x", exit_status: 254, started_at: at(13), finished_at: at(14) },
            ],
          }),
        ],
      }),
    );
    expect(screen.queryByTestId("typed-start-shop")).toBeNull();
    const typed = screen.getByTestId("typed-create-snapshot");
    const rows = [...typed.querySelectorAll("li")].map((li) => li.textContent?.replace(/\s+/g, " ").trim());
    expect(rows[0]).toContain("$ aws ec2 create-snapshot --volume-id vol-1 exit 0");
    expect(rows[1]).toContain("$ aws ec2 describe-snapshots --snapshot-ids snap-x exit 254");
    expect(typed.querySelectorAll(".exit.warn")).toHaveLength(1);
  });
});

describe("Results: the incremental lab's block map", () => {
  it("is shown only for a run that compared two snapshots", async () => {
    await show();
    expect(screen.queryByTestId("block-map")).toBeNull();
  });

  it("shows the blocks changed, what they cost, and one square per block written", async () => {
    const comparison = {
      first_snapshot_id: "snap-1",
      second_snapshot_id: "snap-2",
      block_size: 524288,
      volume_size_bytes: 8 * 1024 * 1024 * 1024,
      changed: [0, 5, 6],
      held: [0, 2, 3, 4, 5, 6],
      source: "emulator" as const,
    };
    await show(runReport({ context: context({ comparison, snapshot_id: "snap-2", previous_snapshot_id: "snap-1" }) }));
    const panel = screen.getByTestId("block-map");
    expect(figure("blocks-changed").textContent).toBe("3 / 6");
    expect(panel.textContent).toContain("1.5 MiB of 3.0 MiB, 50%");
    expect(panel.textContent).toContain("16384 blocks of 512 KiB");
    expect(figure("blocks-cost").textContent).toBe("$0.0001");
    const grid = within(panel).getByRole("img");
    expect(grid.getAttribute("aria-label")).toBe("Blocks 0 to 6: 3 changed, 3 unchanged, the rest never written");
    const cells = Array.from(grid.querySelectorAll(".cell")).map((c) => c.classList[1]);
    expect(cells).toEqual(["changed", "empty", "held", "held", "held", "changed", "changed"]);
  });
});

describe("Results: the restore-initialization lab's reads", () => {
  const MIB = 1024 * 1024;
  const read = (kind: "first" | "again" | "initialize", volume: string, rates: number[], before: number, fetched: number) => ({
    kind,
    volume_id: volume,
    offset: 0,
    length: rates.length * MIB,
    samples: rates.map((mib_per_s, i) => ({ offset: i * MIB, mib_per_s })),
    seconds: 1,
    blocks_fetched: fetched,
    progress_before: before,
    progress_after: 100,
  });

  it("charts every read with its median and, with no verify step, no empty verification panel", async () => {
    const reads = [
      read("first", "vol-lazy", [31, 32, 30], 0, 6),
      read("again", "vol-lazy", [700, 900, 800], 50, 0),
      read("initialize", "vol-lazy", [800, 900, 850, 31, 30, 32], 50, 6),
      read("first", "vol-fast", [850, 800, 900], 100, 0),
    ];
    await show(runReport({ verification: null, context: context({ reads }) }));
    const panel = screen.getByTestId("read-chart");
    expect(figure("read-median-0").textContent).toBe("31 MiB/s");
    expect(isBad("read-median-0")).toBe(true);
    expect(figure("read-median-3").textContent).toBe("850 MiB/s");
    expect(isBad("read-median-3")).toBe(false);
    expect(panel.textContent).toContain("first read, Fast Snapshot Restore · 0 blocks fetched from the snapshot");
    const chart = within(panel).getByRole("img");
    expect(chart.getAttribute("aria-label")).toContain("over the first 6 MiB of the volume: first read 31, second read 800");
    expect(chart.querySelectorAll("polyline")).toHaveLength(4);
    expect(screen.queryByTestId("verification-summary")).toBeNull();
  });

  it("is not shown for a lab that reads nothing", async () => {
    await show();
    expect(screen.queryByTestId("read-chart")).toBeNull();
    expect(screen.getByTestId("verification-summary")).toBeTruthy();
  });
});

describe("Results: the snapshot-alerts lab's inbox", () => {
  it("lists the alerts delivered, the failure marked, and shows no verification panel", async () => {
    const message = JSON.stringify({
      "detail-type": "EBS Snapshot Notification",
      time: "2026-11-30T16:40:13Z",
      detail: { event: "createSnapshot", result: "failed", cause: "copy failed", snapshot_id: "arn:aws:ec2::us-east-1:snapshot/snap-9" },
    });
    const alerts = {
      topic_arn: "arn:aws:sns:us-east-1:000000000000:securecart-snapshot-alerts",
      inbox: [{ at: "2026-11-30T16:40:13Z", topic_arn: "t", subscription_arn: "s", protocol: "email", endpoint: "ops@securecart.example", subject: null, message }],
    };
    await show(runReport({ verification: null, context: context({ alerts }) }));
    const inbox = screen.getByTestId("inbox");
    expect(within(inbox).getByRole("heading").textContent).toContain("1 alert");
    const alert = screen.getByTestId("inbox-alert");
    expect(alert.textContent).toContain("createSnapshot failed for snap-9");
    expect(alert.textContent).toContain("to ops@securecart.example (email)");
    expect(alert.textContent).toContain("copy failed");
    expect(alert.classList.contains("bad")).toBe(true);
    expect(screen.queryByTestId("verification-summary")).toBeNull();
  });
});

describe("Results: knowledge checks", () => {
  const answer = (id: string, given: string | null, correct: boolean, asked = true) => ({
    question_id: id,
    prompt: `Question ${id}?`,
    right_answer: "Yes",
    answer: given,
    correct,
    asked,
    at: "2026-11-29T10:05:00Z",
  });

  it("shows the score and each answer, with the right one where it was missed", async () => {
    const answers = [answer("a", "Yes", true), answer("b", "No", false), answer("c", null, false)];
    await show(runReport({ context: context({ answers }) }));
    expect(screen.getByTestId("quiz-score").textContent).toBe("1 of 3 right");
    const items = within(screen.getByTestId("knowledge-checks")).getAllByRole("listitem").map((li) => li.textContent);
    expect(items[0]).toContain("✔ Question a?");
    expect(items[1]).toContain("answered “No”; the answer: Yes");
    expect(items[2]).toContain("skipped; the answer: Yes");
  });

  it("says not asked for a run nobody answered, and shows no panel for a lab without questions", async () => {
    await show(runReport({ context: context({ answers: [answer("a", null, false, false)] }) }));
    expect(screen.getByTestId("quiz-score").textContent).toBe("not asked");
    cleanup();
    await show();
    expect(screen.queryByTestId("knowledge-checks")).toBeNull();
  });
});

describe("Results: the restores side by side", () => {
  it("shows two restores' figures and the pause's cost in one table", async () => {
    const app = verification({
      snapshot_id: "snap-app",
      consistency: "app",
      image: { last_seq: 900, committed: 900, torn_seqs: [], corrupt: 0, missing_positions: 0, intact: true },
      replayed: [],
    });
    const pauses = [{ step_id: "app-snapshot", around_snapshot: true, mid_order: false, paused_ms: 2000, orders_delayed: 100 }];
    await show(runReport({ verification: app, context: context({ verifications: [verification(), app], pauses }) }));
    const table = screen.getByTestId("side-by-side");
    expect(table.textContent).toContain("Crash-consistent");
    expect(table.textContent).toContain("Application-consistent");
    const torn = Array.from(screen.getByTestId("sbs-torn").querySelectorAll("td")).map((td) => td.textContent);
    expect(torn).toEqual(["1", "0"]);
    const pause = Array.from(screen.getByTestId("sbs-pause").querySelectorAll("td")).map((td) => td.textContent);
    expect(pause).toEqual(["—", "writes paused 2.0 s (about 100 orders waited)"]);
  });

  it("is not shown for a run with one restore", async () => {
    await show();
    expect(screen.queryByTestId("side-by-side")).toBeNull();
  });
});

describe("Results: the verification", () => {
  it("crash-consistent with a torn order: all acknowledged orders found, the torn one replayed", async () => {
    await show();
    const summary = screen.getByTestId("verification-summary");
    expect(figure("v-present").textContent).toBe("410 / 410");
    expect(figure("v-missing").textContent).toBe("0");
    expect(figure("v-after").textContent).toBe("0");
    expect(summary.textContent).toContain("of 57 orders begun after it, present");
    expect(figure("v-torn").textContent).toBe("1");
    expect(summary.textContent).toContain("torn transactions, 1 completed by journal replay");
    expect(isBad("v-present")).toBe(false);
    expect(isBad("v-missing")).toBe(false);
    expect(isBad("v-after")).toBe(false);
    const lines = within(summary).getAllByRole("listitem").map((li) => li.textContent);
    expect(lines).toEqual(verification().explanation);
  });

  it("a torn order the journal replay did not complete is counted without the replay note", async () => {
    await show(runReport({ verification: verification({ replayed: [], torn_after_replay: 1 }) }));
    expect(figure("v-torn").textContent).toBe("1");
    expect(screen.getByTestId("verification-summary").textContent).not.toContain("journal replay");
  });

  it("application-consistent: nothing torn, nothing replayed", async () => {
    const v = verification({
      consistency: "app",
      image: { last_seq: 300, committed: 300, torn_seqs: [], corrupt: 0, missing_positions: 0, intact: true },
      replayed: [],
      torn: 0,
      torn_seqs: [],
      explanation: ["No order is torn: writes were paused while the snapshot was created — an application-consistent snapshot."],
    });
    await show(runReport({ consistency: "app", verification: v }));
    expect(figure("v-torn").textContent).toBe("0");
    const summary = screen.getByTestId("verification-summary");
    expect(summary.textContent).toContain("torn transactions");
    expect(summary.textContent).not.toContain("journal replay");
    expect(within(summary).getByText(/an application-consistent snapshot/)).toBeTruthy();
  });

  it("read from a shadow disk: says so, through the explanation", async () => {
    const shadow = "The cloud keeps no volume data, so snaplab read its shadow disk as it was at the snapshot's StartTime.";
    const v = verification({ read_from: "shadow disk", explanation: [...verification().explanation, shadow] });
    await show(runReport({
      target_kind: "moto",
      target_endpoint: "http://localhost:5000",
      target_label: "moto at http://localhost:5000",
      context: context({ target: { kind: "moto", endpoint: "http://localhost:5000", region: "us-east-1", data_plane: "shadow disk", shadow_disk: true, profile: null, access_key: "123456789012" } }),
      verification: v,
    }));
    expect(within(screen.getByTestId("verification-summary")).getByText(shadow).tagName).toBe("LI");
    expect(screen.getByText(/moto at http:\/\/localhost:5000/)).toBeTruthy();
  });

  it("marks missing orders and orders from after the snapshot as bad", async () => {
    const v = verification({ present_in_restore: 407, missing: 3, missing_seqs: [98, 99, 100], after_snapshot_present: 2, after_snapshot_seqs: [420, 421] });
    await show(runReport({ outcome: "failed", verification: v }));
    expect(figure("v-present").textContent).toBe("407 / 410");
    expect(figure("v-missing").textContent).toBe("3");
    expect(figure("v-after").textContent).toBe("2");
    expect(isBad("v-present")).toBe(true);
    expect(isBad("v-missing")).toBe(true);
    expect(isBad("v-after")).toBe(true);
  });

  it("without a verification: says the run did not reach the verify step", async () => {
    await show(runReport({ outcome: "interrupted", verification: null }));
    const summary = screen.getByTestId("verification-summary");
    expect(summary.textContent).toContain("This run did not reach the verify step.");
    expect(screen.queryByTestId("v-present")).toBeNull();
  });
});

describe("Results: steps, checks and notes", () => {
  it("lists each step with its status and each check's verdict, a failed check as a warning", async () => {
    await show(runReport({
      steps: [
        stepRow({ step_id: "start-shop", title: "Open the shop", checks: [{ check_id: "shop_taking_orders", passed: true, message: "orders are flowing", at: "2026-11-29T10:00:05Z" }] }),
        stepRow({
          step_id: "restore",
          title: "Restore the volume",
          status: "failed",
          checks: [{ check_id: "restored_in_instance_zone", passed: false, message: "vol-2 is in us-east-1b; the instance is in us-east-1a", at: "2026-11-29T10:01:00Z" }],
        }),
        stepRow({ step_id: "clean-up", title: "Clean up", status: "skipped", checks: [] }),
      ],
    }));
    const list = screen.getByRole("heading", { name: "Steps and checks" }).parentElement!.querySelector("ol")!;
    const steps = [...list.children] as HTMLElement[];
    expect(steps.map((li) => li.querySelector(".badge")!.textContent)).toEqual(["passed", "failed", "skipped"]);
    expect(steps[1].textContent).toContain("Restore the volume");
    const ok = within(steps[0]).getByText(/orders are flowing/);
    expect(ok.textContent).toContain("✔");
    expect(ok.classList.contains("ok")).toBe(true);
    const bad = within(steps[1]).getByText(/vol-2 is in us-east-1b/);
    expect(bad.textContent).toContain("✘");
    expect(bad.classList.contains("warn")).toBe(true);
    expect(within(steps[2]).queryAllByRole("listitem")).toEqual([]);
  });

  it("shows notes only when there are some, a warning as a warning", async () => {
    await show();
    expect(screen.queryByRole("heading", { name: "Notes" })).toBeNull();
    cleanup();
    await show(runReport({ notices: [
      { level: "info", message: "Resumed at step 5", at: "2026-11-29T10:00:01Z" },
      { level: "warning", message: "LocalStack keeps no volume data", at: "2026-11-29T10:00:02Z" },
    ] }));
    expect(screen.getByRole("heading", { name: "Notes" })).toBeTruthy();
    expect(screen.getByText("Resumed at step 5").classList.contains("warn")).toBe(false);
    expect(screen.getByText("LocalStack keeps no volume data").classList.contains("warn")).toBe(true);
  });
});

describe("Results: export", () => {
  it("Export HTML asks where, then exports there and says where", async () => {
    vi.mocked(save).mockResolvedValue("/home/ann/run-1.html");
    const user = await show();
    await user.click(screen.getByTestId("export-html"));
    expect(save).toHaveBeenCalledWith({
      title: "Save the run's report",
      defaultPath: "run-1.html",
      filters: [{ name: "HTML", extensions: ["html"] }],
    });
    expect(api.exportReport).toHaveBeenCalledWith("run-1", "html", "/home/ann/run-1.html");
    expect((await screen.findByRole("status")).textContent).toBe("Saved to /home/ann/run-1.html");
    // The dialog comes first.
    expect(vi.mocked(save).mock.invocationCallOrder[0]).toBeLessThan(vi.mocked(api.exportReport).mock.invocationCallOrder[0]);
  });

  it("Export Markdown offers a .md file", async () => {
    vi.mocked(save).mockResolvedValue("/tmp/r.md");
    const user = await show();
    await user.click(screen.getByTestId("export-markdown"));
    expect(save).toHaveBeenCalledWith(expect.objectContaining({ defaultPath: "run-1.md", filters: [{ name: "Markdown", extensions: ["md"] }] }));
    expect(api.exportReport).toHaveBeenCalledWith("run-1", "markdown", "/tmp/r.md");
  });

  it("exports nothing when the dialog is cancelled", async () => {
    vi.mocked(save).mockResolvedValue(null);
    const user = await show();
    await user.click(screen.getByTestId("export-html"));
    expect(save).toHaveBeenCalledTimes(1);
    expect(api.exportReport).not.toHaveBeenCalled();
    expect(screen.queryByRole("status")).toBeNull();
    expect(ui.error).toBeNull();
  });

  it("shows a failed export as the app's error, not as saved", async () => {
    vi.mocked(save).mockResolvedValue("/read-only/run-1.html");
    vi.mocked(api.exportReport).mockRejectedValue(commandError("cannot write /read-only/run-1.html: permission denied"));
    const user = await show();
    await user.click(screen.getByTestId("export-html"));
    await waitFor(() => expect(ui.error).toContain("permission denied"));
    expect(screen.queryByRole("status")).toBeNull();
  });

  it("shows a dialog that fails as the app's error, without exporting", async () => {
    vi.mocked(save).mockRejectedValue("dialog plugin not allowed by the capability");
    const user = await show();
    await user.click(screen.getByTestId("export-markdown"));
    await waitFor(() => expect(ui.error).toBe("dialog plugin not allowed by the capability"));
    expect(api.exportReport).not.toHaveBeenCalled();
  });
});

describe("Results: keyboard", () => {
  it("reaches both export buttons with Tab and exports with Enter and Space", async () => {
    vi.mocked(save).mockResolvedValueOnce("/tmp/a.html").mockResolvedValueOnce("/tmp/b.md");
    const user = await show();
    await user.tab();
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Export HTML…" }));
    await user.keyboard("{Enter}");
    await waitFor(() => expect(api.exportReport).toHaveBeenCalledWith("run-1", "html", "/tmp/a.html"));
    await user.tab();
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Export Markdown…" }));
    await user.keyboard(" ");
    await waitFor(() => expect(api.exportReport).toHaveBeenCalledWith("run-1", "markdown", "/tmp/b.md"));
  });
});
