// The lab player's terminal, without the terminal: its colours and type
// size (following the app's theme and Large type), what a "Run in terminal"
// click types, and what the panel shows as the shell's events arrive.

import type { ITheme } from "@xterm/xterm";
import type { TerminalEvent } from "../bindings/TerminalEvent";
import type { TerminalInfo } from "../bindings/TerminalInfo";
import type { TypedCommand } from "../bindings/TypedCommand";

/** The app's palette (styles.css) for the terminal. */
export function terminalTheme(theme: "light" | "dark"): ITheme {
  return theme === "dark"
    ? {
        background: "#0b1116",
        foreground: "#e6edf3",
        cursor: "#2dd4bf",
        cursorAccent: "#0b1116",
        selectionBackground: "rgba(45, 212, 191, 0.35)",
      }
    : {
        background: "#ffffff",
        foreground: "#15202b",
        cursor: "#0f766e",
        cursorAccent: "#ffffff",
        selectionBackground: "rgba(15, 118, 110, 0.25)",
        // ANSI "white" and "bright white" are unreadable on white.
        white: "#5b6672",
        brightWhite: "#15202b",
        yellow: "#8a6d00",
        brightYellow: "#8a6d00",
      };
}

/** Pixels: the body's 15 px, or Large type's 20 px, a little smaller as code. */
export function terminalFontSize(large: boolean): number {
  return large ? 18 : 13;
}

/**
 * What "Run in terminal" types: the command on one line (a `\` line break
 * joined up), with no Enter — the learner reads it and presses Enter.
 */
export function lineToType(command: string): string {
  return command.replace(/\\\r?\n[ \t]*/g, "").replace(/\s+$/, "");
}

export type TerminalStatus = "opening" | "open" | "ended" | "failed";

export interface TerminalView {
  status: TerminalStatus;
  info: TerminalInfo | null;
  /** The commands the shell ran this run, newest last. */
  commands: TypedCommand[];
  /** Why the terminal could not start. */
  message: string | null;
  /** The shell's exit code, once it has ended (null: ended by a signal). */
  exitCode: number | null;
}

export function openingView(): TerminalView {
  return { status: "opening", info: null, commands: [], message: null, exitCode: null };
}

/** The open call's answer: unless the shell's end arrived before it. */
export function opened(view: TerminalView, info: TerminalInfo): TerminalView {
  return { ...view, status: view.status === "ended" ? "ended" : "open", info, message: null };
}

export function failed(view: TerminalView, message: string): TerminalView {
  return { ...view, status: "failed", message };
}

/** The view after one of the shell's events (output goes to the terminal itself). */
export function applyTerminalEvent(view: TerminalView, event: TerminalEvent): TerminalView {
  switch (event.kind) {
    case "output":
      return view;
    case "command":
      return { ...view, commands: [...view.commands, event.command] };
    case "exited":
      return { ...view, status: "ended", exitCode: event.code };
  }
}

/**
 * What the panel says under the terminal when it cannot be typed into. The
 * run's end closes the shell: whichever of the two news arrives first, the
 * line says the run is over once it is.
 */
export function statusMessage(view: TerminalView, runOver: boolean): string | null {
  if (view.status === "failed") return view.message;
  if (view.status !== "ended") return null;
  if (runOver) return "The run is over: its shell has closed.";
  return `The shell ended${view.exitCode === null ? "" : ` (exit ${view.exitCode})`}. Open a new one to go on.`;
}

/** The line under the terminal: what is recorded, or why nothing is. */
export function recordingNote(view: TerminalView): string {
  const info = view.info;
  if (!info) return "";
  if (!info.recording) return `Not recorded: ${info.not_recording_because ?? "off"}.`;
  const n = view.commands.length;
  const last = view.commands[n - 1];
  const count = n === 1 ? "1 command recorded" : `${n} commands recorded`;
  return last ? `${count}; the last exited ${last.exit_status}.` : "Commands you type here go into the run's record.";
}
