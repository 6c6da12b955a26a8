import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen, waitFor } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { tick } from "svelte";
import TerminalPanel from "./TerminalPanel.svelte";
import { api } from "../lib/api";
import { ui } from "../lib/app.svelte";
import { Terminal } from "../test/fake-xterm";
import { FitAddon } from "../test/fake-addon-fit";
import type { TerminalEvent } from "../bindings/TerminalEvent";
import type { TerminalInfo } from "../bindings/TerminalInfo";

vi.mock("../lib/api", async (importOriginal) => {
  const real = await importOriginal<typeof import("../lib/api")>();
  return { ...real, api: Object.fromEntries(Object.keys(real.api).map((k) => [k, vi.fn()])) };
});

const bash: TerminalInfo = { shell: "bash", recording: true, not_recording_because: null };
/** The shell's side of the channel the panel opened. */
let send: (e: TerminalEvent) => void;

function terminal(): Terminal {
  const t = Terminal.instances.at(-1);
  if (!t) throw new Error("no terminal was made");
  return t;
}

beforeEach(() => {
  Terminal.instances = [];
  FitAddon.next = { cols: 120, rows: 20 };
  ui.theme = "light";
  ui.largeType = false;
  vi.mocked(api.terminalOpen).mockImplementation(async (_size, onEvent) => {
    send = onEvent;
    return bash;
  });
  vi.mocked(api.terminalInput).mockResolvedValue();
  vi.mocked(api.terminalResize).mockResolvedValue();
});

afterEach(() => {
  cleanup();
  vi.clearAllMocks();
});

async function opened(runOver = false) {
  const r = render(TerminalPanel, { props: { runOver } });
  await waitFor(() => expect(screen.getByTestId("terminal").dataset.status).toBe("open"));
  return r;
}

describe("TerminalPanel: the shell", () => {
  it("opens the run's shell at the size its panel fits, and says what it records", async () => {
    await opened();
    expect(api.terminalOpen).toHaveBeenCalledWith({ cols: 120, rows: 20 }, expect.any(Function));
    expect(screen.getByText("bash, pointed at this run's cloud")).toBeTruthy();
    expect(screen.getByTestId("terminal-recording").textContent).toContain("go into the run's record");
  });

  it("shows what the shell prints and counts the commands it reports", async () => {
    await opened();
    send({ kind: "output", data: "(snaplab) $ " });
    send({
      kind: "command",
      command: { command: "aws ec2 describe-volumes", exit_status: 255, started_at: "2026-11-30T12:00:00Z", finished_at: "2026-11-30T12:00:01Z" },
    });
    await tick();
    expect(terminal().written).toContain("(snaplab) $ ");
    expect(screen.getByTestId("terminal-recording").textContent).toBe("1 command recorded; the last exited 255.");
  });

  it("sends what is typed to the shell", async () => {
    await opened();
    terminal().type("ls\r");
    expect(api.terminalInput).toHaveBeenCalledWith("ls\r");
  });

  it("types a step's command at the prompt without Enter, and takes the keyboard", async () => {
    const r = await opened();
    const focusedBefore = terminal().focused;
    (r.component as unknown as { typeCommand: (c: string) => void }).typeCommand(
      "aws ec2 describe-snapshots \\\n  --owner-ids self",
    );
    expect(api.terminalInput).toHaveBeenLastCalledWith("aws ec2 describe-snapshots --owner-ids self");
    expect(terminal().focused).toBeGreaterThan(focusedBefore);
  });

  it("follows the theme and Large type", async () => {
    await opened();
    expect((terminal().options.theme as { background: string }).background).toBe("#ffffff");
    ui.theme = "dark";
    ui.largeType = true;
    await tick();
    expect((terminal().options.theme as { background: string }).background).toBe("#0b1116");
    expect(terminal().options.fontSize).toBe(18);
  });
});

describe("TerminalPanel: its end", () => {
  it("offers a new shell when the learner's exits during the run", async () => {
    await opened();
    send({ kind: "exited", code: 0 });
    await tick();
    expect(screen.getByTestId("terminal-message").textContent).toContain("The shell ended (exit 0)");
    // Typing into an ended shell sends nothing.
    terminal().type("x");
    expect(api.terminalInput).not.toHaveBeenCalled();
    await userEvent.setup().click(screen.getByTestId("terminal-reopen"));
    await waitFor(() => expect(screen.getByTestId("terminal").dataset.status).toBe("open"));
    expect(api.terminalOpen).toHaveBeenCalledTimes(2);
  });

  it("says the run is over when the run's end closed it, with nothing to reopen", async () => {
    await opened(true);
    send({ kind: "exited", code: null });
    await tick();
    expect(screen.getByTestId("terminal-message").textContent).toBe("The run is over: its shell has closed.");
    expect(screen.queryByTestId("terminal-reopen")).toBeNull();
  });

  it("says why when the shell cannot start", async () => {
    vi.mocked(api.terminalOpen).mockRejectedValue({ code: "terminal", message: "cannot open a pseudo-terminal: no ptys" });
    render(TerminalPanel, { props: { runOver: false } });
    await waitFor(() => expect(screen.getByTestId("terminal").dataset.status).toBe("failed"));
    expect(screen.getByTestId("terminal-message").textContent).toContain("cannot open a pseudo-terminal: no ptys");
  });

  it("leaves the run's shell running when the panel goes, and attaches to it again", async () => {
    const r = await opened();
    r.unmount();
    expect(terminal().disposed).toBe(true);
    render(TerminalPanel, { props: { runOver: false } });
    await waitFor(() => expect(screen.getByTestId("terminal").dataset.status).toBe("open"));
    // The Rust side replays the recent output on the new channel.
    send({ kind: "output", data: "earlier output" });
    expect(terminal().written).toContain("earlier output");
    expect(api.terminalOpen).toHaveBeenCalledTimes(2);
  });

  it("stays ended when the shell's end arrives before the open call answers", async () => {
    vi.mocked(api.terminalOpen).mockImplementation(async (_size, onEvent) => {
      onEvent({ kind: "exited", code: 1 });
      return bash;
    });
    render(TerminalPanel, { props: { runOver: false } });
    await waitFor(() => expect(screen.getByTestId("terminal").dataset.status).toBe("ended"));
    expect(screen.getByTestId("terminal-message").textContent).toContain("exit 1");
  });
});
