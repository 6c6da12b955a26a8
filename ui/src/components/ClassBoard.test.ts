import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { save } from "@tauri-apps/plugin-dialog";
import ClassBoard from "./ClassBoard.svelte";
import { api } from "../lib/api";
import { ui } from "../lib/app.svelte";
import { boardRow, lab } from "../lib/fixtures";
import { commandError, otherLab } from "./fixtures";

vi.mock("@tauri-apps/plugin-dialog", () => ({ save: vi.fn() }));
vi.mock("../lib/api", async (importOriginal) => {
  const real = await importOriginal<typeof import("../lib/api")>();
  return { ...real, api: Object.fromEntries(Object.keys(real.api).map((k) => [k, vi.fn()])) };
});

let onopen: ReturnType<typeof vi.fn<(runId: string) => void>>;

/** The app's wait for a change: nothing heard, so it returns after `waitMs` (a file's record). */
const quiet = (waitMs: number) => new Promise<boolean>((resolve) => setTimeout(() => resolve(false), waitMs));

beforeEach(() => {
  ui.labs = [lab, otherLab];
  onopen = vi.fn<(runId: string) => void>();
  vi.mocked(api.classBoardChanged).mockImplementation(quiet);
});

afterEach(() => {
  cleanup();
  vi.clearAllMocks();
  vi.useRealTimers();
});

const learners = () => screen.getAllByRole("row").slice(1).map((r) => r.getAttribute("data-learner"));

describe("ClassBoard", () => {
  it("shows every learner, who needs a look first, with the failed check's words", async () => {
    vi.mocked(api.classBoard).mockResolvedValue([
      boardRow({ learner: "ada", run_id: "run-ada", state: "working" }),
      boardRow({ learner: "grace", run_id: "run-grace", state: "stuck", message: "No snapshot of vol-1 was created since this step began" }),
      boardRow({ learner: "alan", run_id: "run-alan", state: "passed", quiz_correct: 2, quiz_asked: 3 }),
    ]);
    render(ClassBoard, { onopen });
    await waitFor(() => expect(screen.getByTestId("board").dataset.loaded).toBe("true"));
    expect(learners()).toEqual(["grace", "ada", "alan"]);
    const grace = within(screen.getByRole("row", { name: /grace/ }));
    expect(grace.getByText("Failed check")).toBeTruthy();
    expect(grace.getByText(/No snapshot of vol-1/)).toBeTruthy();
    expect(grace.getByText("2/9 Take the snapshot")).toBeTruthy();
    expect(within(screen.getByRole("row", { name: /alan/ })).getByText("2/3")).toBeTruthy();
    expect(screen.getByTestId("board-counts").textContent).toBe("3 learners · 1 working · 1 failed check · 1 finished");
    await userEvent.click(screen.getByRole("button", { name: "Open grace's run run-grace" }));
    expect(onopen).toHaveBeenCalledWith("run-grace");
  });

  it("polls the record, so learners appear and move as their runs go", async () => {
    vi.mocked(api.classBoard)
      .mockResolvedValueOnce([])
      .mockResolvedValue([boardRow({ learner: "ada", state: "waiting" })]);
    render(ClassBoard, { onopen, every: 20 });
    await waitFor(() => expect(screen.getByTestId("board").dataset.loaded).toBe("true"));
    await waitFor(() => expect(learners()).toEqual(["ada"]));
    expect(screen.getByText("Waiting for the learner")).toBeTruthy();
    expect(vi.mocked(api.classBoard).mock.calls.length).toBeGreaterThan(1);
  });

  it("reloads as soon as a class database says a learner's run wrote, without waiting for the interval", async () => {
    let heard: (changed: boolean) => void = () => {};
    vi.mocked(api.classBoardChanged).mockImplementation(() => new Promise<boolean>((resolve) => (heard = resolve)));
    vi.mocked(api.classBoard)
      .mockResolvedValueOnce([boardRow({ learner: "ada", state: "working" })])
      .mockResolvedValue([boardRow({ learner: "ada", state: "stuck", message: "No snapshot yet" })]);
    render(ClassBoard, { onopen, every: 60_000 });
    await waitFor(() => expect(screen.getByTestId("board").dataset.loaded).toBe("true"));
    await waitFor(() => expect(api.classBoardChanged).toHaveBeenCalledWith(60_000));
    expect(api.classBoard).toHaveBeenCalledTimes(1);
    expect(screen.getByTestId("board-live").textContent).toBe("Redrawn every 60 s");
    heard(true);
    await waitFor(() => expect(screen.getByText("Failed check")).toBeTruthy());
    expect(api.classBoard).toHaveBeenCalledTimes(2);
    expect(screen.getByTestId("board-live").dataset.live).toBe("true");
    expect(screen.getByTestId("board-live").textContent).toContain("Live");
  });

  it("falls back to the interval when the wait fails, and still reloads", async () => {
    vi.mocked(api.classBoardChanged).mockRejectedValue(commandError("the class database went away"));
    vi.mocked(api.classBoard)
      .mockResolvedValueOnce([])
      .mockResolvedValue([boardRow({ learner: "grace", state: "waiting" })]);
    render(ClassBoard, { onopen, every: 20 });
    await waitFor(() => expect(learners()).toEqual(["grace"]));
  });

  it("says so when nobody has started, and filters by lab", async () => {
    vi.mocked(api.classBoard).mockResolvedValue([]);
    render(ClassBoard, { onopen });
    await waitFor(() => expect(screen.getByText(/No learner has started a run/)).toBeTruthy());
    expect(api.classBoard).toHaveBeenLastCalledWith(null);
    await userEvent.selectOptions(screen.getByTestId("board-lab"), otherLab.id);
    await waitFor(() => expect(api.classBoard).toHaveBeenLastCalledWith(otherLab.id));
  });

  it("counts the time on a step as it passes", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    vi.setSystemTime(Date.parse("2026-11-30T10:10:00Z"));
    vi.mocked(api.classBoard).mockResolvedValue([boardRow({ state: "waiting", step_started_at: "2026-11-30T10:08:45Z" })]);
    render(ClassBoard, { onopen, every: 60_000 });
    await waitFor(() => expect(screen.getByText("1:15")).toBeTruthy());
    await vi.advanceTimersByTimeAsync(2000);
    await waitFor(() => expect(screen.getByText("1:17")).toBeTruthy());
  });

  it("exports the board's results, for the lab shown, to the file chosen", async () => {
    vi.mocked(api.classBoard).mockResolvedValue([boardRow({ learner: "ada", state: "passed" })]);
    vi.mocked(save).mockResolvedValue("/home/ann/class.csv");
    render(ClassBoard, { onopen });
    await waitFor(() => expect(screen.getByTestId("board").dataset.loaded).toBe("true"));
    await userEvent.selectOptions(screen.getByTestId("board-lab"), otherLab.id);
    await userEvent.click(screen.getByTestId("board-export"));
    await waitFor(() => expect(api.exportClassSummary).toHaveBeenCalledWith(otherLab.id, "/home/ann/class.csv"));
    expect(screen.getByText("/home/ann/class.csv")).toBeTruthy();
    vi.mocked(save).mockResolvedValue(null);
    await userEvent.click(screen.getByTestId("board-export"));
    expect(api.exportClassSummary).toHaveBeenCalledTimes(1);
  });

  it("shows why the board cannot be read", async () => {
    vi.mocked(api.classBoard).mockRejectedValue(commandError("the record is locked"));
    render(ClassBoard, { onopen });
    await waitFor(() => expect(screen.getByRole("alert").textContent).toContain("the record is locked"));
  });
});
