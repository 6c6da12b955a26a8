import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { tick } from "svelte";
import LabPlayer from "./LabPlayer.svelte";
import { api } from "../lib/api";
import { ui } from "../lib/app.svelte";
import { applyAll } from "../lib/runview";
import { at, context, lab, question, started } from "../lib/fixtures";
import { awaitingLearner, checkResult, commandError, notice, runFinished, runView, stepStarted } from "./fixtures";
import type { LabEvent } from "../bindings/LabEvent";

// Every command is a mock; errorText stays the real one.
vi.mock("../lib/api", async (importOriginal) => {
  const real = await importOriginal<typeof import("../lib/api")>();
  return { ...real, api: Object.fromEntries(Object.keys(real.api).map((k) => [k, vi.fn()])) };
});

let onresults: ReturnType<typeof vi.fn<(runId: string) => void>>;

beforeEach(() => {
  ui.labs = [lab];
  ui.lab = lab;
  ui.run = null;
  ui.error = null;
  onresults = vi.fn<(runId: string) => void>();
  vi.mocked(api.reply).mockResolvedValue();
  vi.mocked(api.stopRun).mockResolvedValue();
  vi.mocked(api.terminalOpen).mockResolvedValue({ shell: "bash", recording: true, not_recording_because: null });
  vi.mocked(api.terminalInput).mockResolvedValue();
});

afterEach(() => {
  cleanup();
  vi.clearAllMocks();
  ui.run = null;
  ui.lab = null;
});

const handsOnStart: LabEvent = { ...started, context: context({ mode: "hands-on", pace: "realistic" }) } as LabEvent;

/** Plays the run up to these events and shows the player. */
function play(events: LabEvent[]) {
  ui.run = runView(events);
  const user = userEvent.setup();
  render(LabPlayer, { props: { onresults } });
  return user;
}

const button = (id: "run-step" | "check-step" | "skip-step") => screen.getByTestId(id) as HTMLButtonElement;
const enabled = () => (["run-step", "check-step", "skip-step"] as const).filter((id) => !button(id).disabled);

describe("LabPlayer: knowledge checks", () => {
  const asked: LabEvent = { event: "question_asked", run_id: "run-1", question, index: 1, total: 4, at: at(9) };

  it("shows the question card instead of a page; Answer waits for a choice and sends it", async () => {
    vi.mocked(api.answerQuestion).mockResolvedValue();
    const user = play([started, asked]);
    const card = screen.getByTestId("question-card");
    expect(within(card).getByRole("heading", { name: "Knowledge check 2 of 4" })).toBeTruthy();
    expect(within(card).getByRole("group", { name: question.prompt })).toBeTruthy();
    const answer = screen.getByTestId("answer-question") as HTMLButtonElement;
    expect(answer.disabled).toBe(true);
    await user.click(screen.getByLabelText("Yes"));
    expect(answer.disabled).toBe(false);
    await user.click(answer);
    expect(api.answerQuestion).toHaveBeenCalledWith("Yes");
  });

  it("is answered from the keyboard: Tab to the choices, arrows to pick, Enter to answer", async () => {
    // user-event walks a radio group with CSS.escape, which jsdom lacks.
    (globalThis as { CSS?: { escape: (s: string) => string } }).CSS ??= {
      escape: (s: string) => s.replace(/[^a-zA-Z0-9_-]/g, (c) => `\\${c}`),
    };
    vi.mocked(api.answerQuestion).mockResolvedValue();
    const user = play([started, asked]);
    // Tab reaches the choices (after the player's own buttons).
    for (let i = 0; i < 10 && document.activeElement !== screen.getByTestId("choice-0"); i++) await user.tab();
    expect(document.activeElement).toBe(screen.getByTestId("choice-0"));
    await user.keyboard("{ArrowDown}");
    expect((screen.getByTestId("choice-1") as HTMLInputElement).checked).toBe(true);
    await user.keyboard("{Enter}");
    expect(api.answerQuestion).toHaveBeenCalledWith("Yes");
  });

  it("Skip passes the question over", async () => {
    const user = play([started, asked]);
    await user.click(screen.getByTestId("skip-question"));
    expect(api.reply).toHaveBeenCalledWith("skip");
  });

  it("after an answer, says whether it was right, why, and where AWS says so", () => {
    const answer = { question_id: question.id, prompt: question.prompt, right_answer: "Yes", answer: "No", correct: false, asked: true, at: at(10) };
    play([started, asked, { event: "question_answered", run_id: "run-1", question, answer, at: at(10) }]);
    expect(screen.queryByTestId("question-card")).toBeNull();
    const feedback = screen.getByTestId("answer-feedback");
    expect(feedback.textContent).toContain("✘ Not “No”: the answer is “Yes”.");
    expect(feedback.textContent).toContain(question.explanation);
    expect(feedback.textContent).toContain(`Source: ${question.source}`);
    expect(feedback.classList.contains("warn")).toBe(true);
  });
});

describe("LabPlayer: no run", () => {
  it("says to start one from the start screen", () => {
    render(LabPlayer, { props: { onresults } });
    expect(screen.getByText("No lab is running. Start one from the start screen.")).toBeTruthy();
    expect(screen.queryByTestId("run-step")).toBeNull();
  });
});

describe("LabPlayer: getting ready", () => {
  it("shows the lab and the run, with no step to act on yet", () => {
    play([started]);
    expect(screen.getByRole("heading", { name: "SecureCart" })).toBeTruthy();
    expect(screen.getByText(/run-1 · guided · crash/).textContent).toContain("built-in emulator");
    expect(screen.getByRole("heading", { name: "Getting ready…" })).toBeTruthy();
    expect(enabled()).toEqual([]);
    expect(screen.getByTestId("stop-run")).toBeTruthy();
    expect(screen.queryByTestId("run-outcome")).toBeNull();
  });

  it("says starting… before the run's context arrives, and names an endpoint target", () => {
    play([]);
    expect(screen.getByText(/starting…/)).toBeTruthy();
    cleanup();
    play([{ ...started, context: context({ target: { kind: "localstack", endpoint: "http://localhost:4566", region: "us-east-1", data_plane: "shadow disk", shadow_disk: true, profile: null, access_key: "123456789012" } }) } as LabEvent]);
    expect(screen.getByText(/run-1 · guided · crash/).textContent).toContain("http://localhost:4566");
  });
});

describe("LabPlayer: guided, awaiting Run step", () => {
  const events = (): LabEvent[] => [
    started,
    stepStarted("create-snapshot", { index: 1 }),
    awaitingLearner("create-snapshot", "run", {
      page: "# Create the snapshot of vol-0123456789abcdef0\n\nAWS copies the blocks.",
      commands: ["aws ec2 create-snapshot --volume-id vol-0123456789abcdef0"],
    }),
  ];

  it("enables Run step and Skip, not Check", () => {
    play(events());
    expect(enabled()).toEqual(["run-step", "skip-step"]);
    expect(screen.getByTestId("step-create-snapshot").getAttribute("aria-current")).toBe("step");
  });

  it("shows the step's page, filled in, and the command it will run", () => {
    play(events());
    expect(screen.getByRole("heading", { name: "Create the snapshot of vol-0123456789abcdef0" })).toBeTruthy();
    expect(screen.getByText("AWS copies the blocks.")).toBeTruthy();
    expect(screen.getByRole("heading", { name: "The aws CLI command for this step" })).toBeTruthy();
    expect(screen.getByLabelText("aws CLI command").textContent).toBe("aws ec2 create-snapshot --volume-id vol-0123456789abcdef0");
    // Guided: no terminal set-up.
    expect(screen.queryByLabelText("terminal set-up")).toBeNull();
  });

  it("falls back to the lab's page text when the runner sent none", () => {
    play([started, awaitingLearner("start-shop", "run", { page: "" })]);
    expect(screen.getByRole("heading", { name: "Open" })).toBeTruthy();
  });

  it("Run step sends go; Skip sends skip", async () => {
    const user = play(events());
    await user.click(button("run-step"));
    expect(api.reply).toHaveBeenLastCalledWith("go");
    await user.click(button("skip-step"));
    expect(api.reply).toHaveBeenLastCalledWith("skip");
    expect(api.reply).toHaveBeenCalledTimes(2);
  });

  it("disables the buttons while the reply is on its way", async () => {
    let delivered!: () => void;
    vi.mocked(api.reply).mockReturnValue(new Promise<void>((resolve) => (delivered = resolve)));
    const user = play(events());
    await user.click(button("run-step"));
    expect(enabled()).toEqual([]);
    await user.click(button("run-step"));
    expect(api.reply).toHaveBeenCalledTimes(1);
    delivered();
    await waitFor(() => expect(enabled()).toEqual(["run-step", "skip-step"]));
  });
});

describe("LabPlayer: hands-on, awaiting Check", () => {
  const events = (): LabEvent[] => [
    handsOnStart,
    stepStarted("create-snapshot", { index: 1 }),
    awaitingLearner("create-snapshot", "check", { commands: ["aws ec2 create-snapshot --volume-id vol-0123456789abcdef0"] }),
  ];

  it("enables Check and Skip, not Run step", () => {
    play(events());
    expect(enabled()).toEqual(["check-step", "skip-step"]);
  });

  it("asks the learner to run the command in the app's terminal; the set-up for their own is folded", async () => {
    play(events());
    expect(screen.getByRole("heading", { name: "Run this in the terminal" })).toBeTruthy();
    expect(screen.getByLabelText("aws CLI command").textContent).toBe("aws ec2 create-snapshot --volume-id vol-0123456789abcdef0");
    const setUp = screen.getByLabelText("terminal set-up");
    expect(setUp.textContent).toBe("export X");
    expect(setUp.closest("details")!.open).toBe(false);
    await waitFor(() => expect(screen.getByTestId("terminal").dataset.status).toBe("open"));
  });

  it("Run in terminal types the command into the run's terminal", async () => {
    const user = play(events());
    await waitFor(() => expect(screen.getByTestId("terminal").dataset.status).toBe("open"));
    await user.click(screen.getByRole("button", { name: "Run in terminal: aws CLI command" }));
    expect(api.terminalInput).toHaveBeenCalledWith("aws ec2 create-snapshot --volume-id vol-0123456789abcdef0");
  });

  it("keeps one terminal through the steps", async () => {
    play(events());
    await waitFor(() => expect(screen.getByTestId("terminal").dataset.status).toBe("open"));
    ui.run = applyAll(ui.run!, [stepStarted("start-shop", { index: 2 }), awaitingLearner("start-shop", "run")]);
    await tick();
    expect(screen.getByRole("heading", { name: "Open the shop" })).toBeTruthy();
    expect(screen.getByTestId("terminal").dataset.status).toBe("open");
    expect(api.terminalOpen).toHaveBeenCalledTimes(1);
  });

  it("shows a step the app does itself as the app's command, even in hands-on mode", () => {
    play([handsOnStart, awaitingLearner("start-shop", "run", { commands: ["aws ec2 describe-instances"] })]);
    expect(screen.getByRole("heading", { name: "The aws CLI command for this step" })).toBeTruthy();
    expect(screen.getByLabelText("terminal set-up").closest("details")!.open).toBe(false);
  });

  it("Check sends go", async () => {
    const user = play(events());
    await user.click(button("check-step"));
    expect(api.reply).toHaveBeenCalledWith("go");
  });

  it("shows each check's verdict, a failed one as a warning; a re-check replaces it", async () => {
    play([...events(), checkResult({ passed: false, message: "No snapshot of vol-0123456789abcdef0 yet" })]);
    const verdict = screen.getByTestId("check-snapshot_created");
    expect(verdict.textContent).toContain("✘");
    expect(verdict.textContent).toContain("No snapshot of vol-0123456789abcdef0 yet");
    expect(verdict.classList.contains("warn")).toBe(true);

    applyAll(ui.run!, [checkResult({ passed: true, message: "snap-1 was created from vol-0123456789abcdef0" })]);
    await tick();
    const again = screen.getByTestId("check-snapshot_created");
    expect(again.textContent).toContain("✔");
    expect(again.textContent).toContain("snap-1 was created");
    expect(again.classList.contains("ok")).toBe(true);
    expect(screen.getAllByTestId(/^check-/).filter((e) => e.tagName === "P")).toHaveLength(1);
  });
});

describe("LabPlayer: running", () => {
  it("disables every step button while the app works on a step", () => {
    play([started, stepStarted("start-shop", { page: "# Opening the shop" })]);
    expect(enabled()).toEqual([]);
    expect(screen.getByRole("heading", { name: "Opening the shop" })).toBeTruthy();
    expect(screen.getByTestId("step-start-shop").dataset.status).toBe("running");
  });

  it("enables Run step when the runner starts waiting", async () => {
    play([started, stepStarted("start-shop")]);
    applyAll(ui.run!, [awaitingLearner("start-shop", "run")]);
    await tick();
    expect(enabled()).toEqual(["run-step", "skip-step"]);
  });

  it("shows the snapshot, the API calls and the diagram as events arrive", async () => {
    play([started]);
    applyAll(ui.run!, [
      { event: "api_call", run_id: "run-1", step_id: "create-snapshot", at: at(4), operation: "CreateSnapshot", request_id: "req-9", duration_ms: 22, error: null },
      { event: "snapshot_progress", run_id: "run-1", snapshot_id: "snap-1", state: "pending", percent: 40, at: at(5) },
    ]);
    await tick();
    expect(screen.getByTestId("snapshot-progress").getAttribute("aria-valuenow")).toBe("40");
    expect(within(screen.getByTestId("api-log")).getByText("CreateSnapshot")).toBeTruthy();
    expect(screen.getByTestId("diagram").textContent).toContain("snap-1");
  });

  it("draws the run's snapshot (after a resume too) until clean-up has deleted it", async () => {
    const withSnapshot = (deleted: boolean) =>
      context({ snapshot_id: "snap-1", resources: [{ kind: "snapshot", id: "snap-1", role: "backup", deleted, created_at: null, deleted_at: null }] });
    play([{ ...started, resumed: true, context: withSnapshot(false) } as LabEvent]);
    expect(screen.getByTestId("diagram").textContent).toContain("snap-1");
    applyAll(ui.run!, [{ event: "context_changed", run_id: "run-1", context: withSnapshot(true), at: at(50) }]);
    await tick();
    expect(screen.getByTestId("diagram").textContent).not.toContain("snap-1");
  });

  it("Stop asks the runner to stop", async () => {
    const user = play([started, stepStarted("start-shop")]);
    await user.click(screen.getByTestId("stop-run"));
    expect(api.stopRun).toHaveBeenCalledTimes(1);
    expect(api.reply).not.toHaveBeenCalled();
  });
});

describe("LabPlayer: finished", () => {
  function finish(outcome: "passed" | "failed" | "interrupted", passed: number) {
    return play([started, stepStarted("start-shop"), runFinished({ outcome, steps_passed: passed, steps_total: 2 })]);
  }

  it("says how the run ended and offers the results instead of Stop", async () => {
    const user = finish("passed", 2);
    const outcome = screen.getByTestId("run-outcome");
    expect(outcome.getAttribute("role")).toBe("status");
    expect(outcome.textContent?.trim()).toBe("Run passed: 2 of 2 steps passed.");
    expect(outcome.classList.contains("passed")).toBe(true);
    expect(screen.queryByTestId("stop-run")).toBeNull();
    expect(screen.getByRole("heading", { name: "The run is over" })).toBeTruthy();
    expect(enabled()).toEqual([]);
    await user.click(screen.getByTestId("see-results"));
    expect(onresults).toHaveBeenCalledWith("run-1");
  });

  it("says a failed run failed", () => {
    finish("failed", 1);
    const outcome = screen.getByTestId("run-outcome");
    expect(outcome.textContent?.trim()).toBe("Run failed: 1 of 2 steps passed.");
    expect(outcome.classList.contains("failed")).toBe(true);
  });
});

describe("LabPlayer: errors and notices", () => {
  it("shows a refused reply as the app's error and lets the learner try again", async () => {
    vi.mocked(api.reply).mockRejectedValueOnce(commandError("no run is waiting for a reply"));
    const user = play([started, awaitingLearner("start-shop", "run")]);
    await user.click(button("run-step"));
    await waitFor(() => expect(ui.error).toContain("no run is waiting for a reply"));
    expect(button("run-step").disabled).toBe(false);
  });

  it("shows no error for a click that crossed the run's end", async () => {
    vi.mocked(api.reply).mockRejectedValueOnce(commandError("no run is going: start one from the start screen", "no_run"));
    const user = play([started, awaitingLearner("start-shop", "run")]);
    await user.click(button("run-step"));
    await waitFor(() => expect(api.reply).toHaveBeenCalled());
    await tick();
    expect(ui.error).toBeNull();
  });

  it("shows a failed Stop as the app's error", async () => {
    vi.mocked(api.stopRun).mockRejectedValueOnce(commandError("the run has already stopped"));
    const user = play([started]);
    await user.click(screen.getByTestId("stop-run"));
    await waitFor(() => expect(ui.error).toContain("the run has already stopped"));
  });

  it("shows the latest four notices, a warning as an alert", () => {
    play([
      started,
      notice("info", "n1"),
      notice("info", "n2"),
      notice("info", "n3"),
      notice("info", "n4"),
      notice("warning", "The cloud keeps no volume data: snaplab keeps a shadow disk"),
    ]);
    expect(screen.queryByText("n1")).toBeNull();
    for (const n of ["n2", "n3", "n4"]) expect(screen.getByText(n).getAttribute("role")).toBe("status");
    const alert = screen.getByRole("alert");
    expect(alert.textContent).toBe("The cloud keeps no volume data: snaplab keeps a shadow disk");
    expect(alert.classList.contains("warning")).toBe(true);
  });
});

describe("LabPlayer: keyboard", () => {
  it("reaches Run step with Tab and runs it with Enter", async () => {
    const user = play([started, awaitingLearner("start-shop", "run")]);
    screen.getByTestId("stop-run").focus();
    await user.tab();
    expect(document.activeElement).toBe(button("run-step"));
    await user.keyboard("{Enter}");
    expect(api.reply).toHaveBeenCalledWith("go");
  });

  it("skips Run step and Check while disabled, and Skip answers Space", async () => {
    const user = play([handsOnStart, awaitingLearner("start-shop", "run")]);
    button("run-step").focus();
    await user.tab();
    // Check is disabled while the runner waits for Run step: Tab goes past it.
    expect(document.activeElement).toBe(button("skip-step"));
    await user.keyboard(" ");
    expect(api.reply).toHaveBeenCalledWith("skip");
  });

  it("opens the results with Enter at the end", async () => {
    const user = play([started, runFinished()]);
    screen.getByTestId("see-results").focus();
    await user.keyboard("{Enter}");
    expect(onresults).toHaveBeenCalledWith("run-1");
  });
});
