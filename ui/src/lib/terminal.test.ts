import { describe, expect, it } from "vitest";
import {
  applyTerminalEvent,
  failed,
  lineToType,
  opened,
  openingView,
  recordingNote,
  statusMessage,
  terminalFontSize,
  terminalTheme,
} from "./terminal";
import type { TypedCommand } from "../bindings/TypedCommand";

const typed = (command: string, exit_status: number): TypedCommand => ({
  command,
  exit_status,
  started_at: "2026-11-30T12:00:00Z",
  finished_at: "2026-11-30T12:00:01Z",
});

describe("the terminal's look", () => {
  it("follows the app's theme and Large type", () => {
    expect(terminalTheme("dark").background).toBe("#0b1116");
    expect(terminalTheme("light").background).toBe("#ffffff");
    expect(terminalTheme("light").foreground).not.toBe(terminalTheme("dark").foreground);
    expect(terminalFontSize(true)).toBeGreaterThan(terminalFontSize(false));
  });
});

describe("Run in terminal", () => {
  it("types a command as one line, without Enter", () => {
    expect(lineToType("aws ec2 describe-snapshots \\\n    --owner-ids self\n")).toBe(
      "aws ec2 describe-snapshots --owner-ids self",
    );
    expect(lineToType("aws ec2 wait snapshot-completed --snapshot-ids snap-1")).toBe(
      "aws ec2 wait snapshot-completed --snapshot-ids snap-1",
    );
    // Quotes and brackets are the learner's to read: left as they are.
    expect(lineToType("aws ec2 describe-volumes --query 'Volumes[0].State'")).toBe(
      "aws ec2 describe-volumes --query 'Volumes[0].State'",
    );
  });
});

describe("the panel's view of the shell", () => {
  const info = { shell: "bash", recording: true, not_recording_because: null };

  it("counts the commands recorded and shows the last exit status", () => {
    let v = opened(openingView(), info);
    expect(v.status).toBe("open");
    expect(recordingNote(v)).toBe("Commands you type here go into the run's record.");
    v = applyTerminalEvent(v, { kind: "output", data: "hello" });
    v = applyTerminalEvent(v, { kind: "command", command: typed("aws ec2 describe-volumes", 0) });
    expect(recordingNote(v)).toBe("1 command recorded; the last exited 0.");
    v = applyTerminalEvent(v, { kind: "command", command: typed("aws ec2 create-volume", 254) });
    expect(v.commands.map((c) => c.command)).toEqual(["aws ec2 describe-volumes", "aws ec2 create-volume"]);
    expect(recordingNote(v)).toBe("2 commands recorded; the last exited 254.");
  });

  it("says why nothing is recorded", () => {
    const v = opened(openingView(), { shell: "fish", recording: false, not_recording_because: "commands are recorded from bash only" });
    expect(recordingNote(v)).toBe("Not recorded: commands are recorded from bash only.");
  });

  it("says how the shell ended: the run's end, or the learner's exit", () => {
    const v = opened(openingView(), info);
    expect(statusMessage(v, false)).toBeNull();
    const ended = applyTerminalEvent(v, { kind: "exited", code: null });
    expect(ended.status).toBe("ended");
    expect(statusMessage(ended, true)).toBe("The run is over: its shell has closed.");
    // The shell's end may arrive before the run's: the line follows once the run is over.
    expect(statusMessage(ended, false)).toBe("The shell ended. Open a new one to go on.");
    const byExit = applyTerminalEvent(v, { kind: "exited", code: 7 });
    expect(statusMessage(byExit, false)).toBe("The shell ended (exit 7). Open a new one to go on.");
    const broken = failed(v, "no pty");
    expect([broken.status, statusMessage(broken, true)]).toEqual(["failed", "no pty"]);
  });
});
