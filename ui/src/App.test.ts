// The app's wiring of the screens to the commands: what Start and a History
// row's Resume end up asking the Rust side for.

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen, waitFor } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import App from "./App.svelte";
import { api } from "./lib/api";
import { ui } from "./lib/app.svelte";
import { context, lab } from "./lib/fixtures";
import { awsSetup, commandError, info, runReport, runSummary } from "./components/fixtures";

vi.mock("./lib/api", async (importOriginal) => {
  const real = await importOriginal<typeof import("./lib/api")>();
  return {
    ...real,
    api: Object.fromEntries(Object.keys(real.api).map((k) => [k, vi.fn()])),
    onLabEvents: vi.fn(async () => () => {}),
    onRunError: vi.fn(async () => () => {}),
  };
});
vi.mock("@tauri-apps/plugin-dialog", () => ({ save: vi.fn() }));

beforeEach(() => {
  Object.assign(ui, { screen: "start", info: null, labs: [], lab: null, run: null, resultsRunId: null, error: null, endpointProblem: null, awsLeftBehind: [] });
  vi.mocked(api.awsSetup).mockResolvedValue(awsSetup);
  vi.mocked(api.appInfo).mockResolvedValue(info);
  vi.mocked(api.labs).mockResolvedValue([lab]);
  vi.mocked(api.uiReady).mockResolvedValue();
  vi.mocked(api.history).mockResolvedValue([]);
  vi.mocked(api.summary).mockResolvedValue([]);
  vi.mocked(api.missedQuestions).mockResolvedValue([]);
});

afterEach(() => {
  cleanup();
  vi.clearAllMocks();
});

async function open() {
  const user = userEvent.setup();
  render(App);
  await screen.findByTestId(`lab-${lab.id}`);
  return user;
}

describe("App: Start on an endpoint that fails", () => {
  for (const code of ["bad_endpoint", "unreachable"] as const) {
    it(`keeps the learner on the start screen with the reason beside the field (${code})`, async () => {
      vi.mocked(api.startRun).mockRejectedValue(commandError(`why: ${code}`, code));
      const user = await open();
      await user.click(screen.getByLabelText(/An endpoint/));
      await user.click(screen.getByTestId("start-lab"));
      const problem = await screen.findByTestId("endpoint-problem");
      expect(problem.textContent).toBe(`why: ${code}`);
      expect(screen.getByTestId("endpoint-url").getAttribute("aria-invalid")).toBe("true");
      expect(ui.error).toBeNull();
      expect(ui.screen).toBe("start");
      // Editing the URL clears the complaint.
      await user.type(screen.getByTestId("endpoint-url"), "7");
      expect(screen.queryByTestId("endpoint-problem")).toBeNull();
    });
  }

  it("shows any other failure in the banner", async () => {
    vi.mocked(api.startRun).mockRejectedValue(commandError("the run record cannot be opened", "record"));
    const user = await open();
    await user.click(screen.getByLabelText(/An endpoint/));
    await user.click(screen.getByTestId("start-lab"));
    await waitFor(() => expect(ui.error).toBe("the run record cannot be opened"));
    expect(screen.queryByTestId("endpoint-problem")).toBeNull();
  });
});

describe("App: Start", () => {
  it("starts the run with the options chosen and shows the lab", async () => {
    vi.mocked(api.startRun).mockResolvedValue(context({ mode: "hands-on" }));
    const user = await open();
    await user.click(screen.getByTestId("mode-hands-on"));
    await user.click(screen.getByTestId("start-lab"));
    expect(api.startRun).toHaveBeenCalledWith({
      aws: null,
      lab: lab.id,
      target: "builtin",
      endpoint: null,
      access_key: null,
      learner: "ann",
      mode: "hands-on",
      consistency: "crash",
      pace: null,
      step_by_step: true,
      resume: null,
      record_commands: true,
    });
    await waitFor(() => expect(screen.getByTestId("nav-lab").getAttribute("aria-current")).toBe("page"));
    expect(screen.getByTestId("run-step")).toBeTruthy();
  });

  it("stays on the start screen and shows why when the run cannot start", async () => {
    vi.mocked(api.startRun).mockRejectedValue(commandError("run run-0 is still going: finish or stop it first"));
    const user = await open();
    await user.click(screen.getByTestId("start-lab"));
    expect((await screen.findByTestId("error")).textContent).toContain("run run-0 is still going");
    expect(screen.getByTestId("start-lab")).toBeTruthy();
    expect(screen.getByTestId("nav-lab")).toHaveProperty("disabled", true);
  });
});

describe("App: History's Resume", () => {
  it("starts the interrupted run again with resume set to it", async () => {
    vi.mocked(api.history).mockResolvedValue([runSummary({ id: "run-3", outcome: "interrupted", finished_at: null, learner: "bob" })]);
    vi.mocked(api.runReport).mockResolvedValue(
      runReport({ id: "run-3", learner: "bob", outcome: "interrupted", context: context({ run_id: "run-3", learner: "bob", mode: "hands-on", consistency: "app" }) }),
    );
    vi.mocked(api.startRun).mockResolvedValue(context({ run_id: "run-3" }));
    const user = await open();
    await user.click(screen.getByTestId("nav-history"));
    await user.click(await screen.findByRole("button", { name: "Resume run-3" }));
    await waitFor(() => expect(api.startRun).toHaveBeenCalled());
    expect(api.runReport).toHaveBeenCalledWith("run-3");
    expect(api.startRun).toHaveBeenCalledWith({
      aws: null,
      lab: lab.id,
      target: "builtin",
      endpoint: null,
      access_key: null,
      learner: "bob",
      mode: "hands-on",
      consistency: "app",
      pace: null,
      step_by_step: true,
      resume: "run-3",
      record_commands: true,
    });
    await waitFor(() => expect(screen.getByTestId("nav-lab").getAttribute("aria-current")).toBe("page"));
  });
});

describe("App: runs on AWS that left resources", () => {
  it("says so on opening, and its button leads to History", async () => {
    vi.mocked(api.history).mockResolvedValue([
      runSummary({ id: "run-aws", target_kind: "aws", outcome: "interrupted", resources_left: 3 }),
      runSummary({ id: "run-emu", target_kind: "embedded", outcome: "interrupted", resources_left: 2 }),
      runSummary({ id: "run-aws-clean", target_kind: "aws", outcome: "passed", resources_left: 0 }),
    ]);
    const user = await open();
    const banner = await screen.findByTestId("aws-left-behind");
    expect(banner.textContent).toContain("Run run-aws on AWS ended before deleting everything");
    await user.click(screen.getByRole("button", { name: "Clean up in History" }));
    expect(ui.screen).toBe("history");
  });

  it("says nothing when no run on AWS left anything", async () => {
    vi.mocked(api.history).mockResolvedValue([runSummary({ id: "run-emu", target_kind: "embedded", outcome: "interrupted", resources_left: 2 })]);
    await open();
    await waitFor(() => expect(api.history).toHaveBeenCalled());
    expect(screen.queryByTestId("aws-left-behind")).toBeNull();
  });
});
