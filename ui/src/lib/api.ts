// Typed calls into the app's Rust commands. Every type here is generated
// from Rust (src/bindings, by `cargo test -p snaplab-app bindings`).

import { Channel, invoke } from "@tauri-apps/api/core";
import type { BoardRow } from "../bindings/BoardRow";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { AppInfo } from "../bindings/AppInfo";
import type { AwsAccount } from "../bindings/AwsAccount";
import type { AwsLeftovers } from "../bindings/AwsLeftovers";
import type { AwsSetup } from "../bindings/AwsSetup";
import type { PreflightView } from "../bindings/PreflightView";
import type { CleanupDone } from "../bindings/CleanupDone";
import type { CommandFailure } from "../bindings/CommandFailure";
import type { EndpointCheck } from "../bindings/EndpointCheck";
import type { LabDef } from "../bindings/LabDef";
import type { LabEvent } from "../bindings/LabEvent";
import type { Reply } from "../bindings/Reply";
import type { ReportFormat } from "../bindings/ReportFormat";
import type { RunContext } from "../bindings/RunContext";
import type { RunReport } from "../bindings/RunReport";
import type { RunSummary } from "../bindings/RunSummary";
import type { StartOptions } from "../bindings/StartOptions";
import type { SummaryRow } from "../bindings/SummaryRow";
import type { MissedQuestion } from "../bindings/MissedQuestion";
import type { TerminalEvent } from "../bindings/TerminalEvent";
import type { TerminalInfo } from "../bindings/TerminalInfo";
import type { TerminalSize } from "../bindings/TerminalSize";

export const api = {
  appInfo: () => invoke<AppInfo>("app_info"),
  uiReady: () => invoke<void>("ui_ready"),
  labs: () => invoke<LabDef[]>("labs"),
  checkEndpoint: (url: string) => invoke<EndpointCheck>("check_endpoint", { url }),
  startRun: (options: StartOptions) => invoke<RunContext>("start_run", { options }),
  /**
   * Attaches to the run's terminal (started if there is none): its output and
   * commands arrive on `onEvent`, the recent ones first. The run's end closes it.
   */
  terminalOpen: (size: TerminalSize, onEvent: (e: TerminalEvent) => void) => {
    const channel = new Channel<TerminalEvent>();
    channel.onmessage = onEvent;
    return invoke<TerminalInfo>("terminal_open", { size, onEvent: channel });
  },
  terminalInput: (data: string) => invoke<void>("terminal_input", { data }),
  terminalResize: (size: TerminalSize) => invoke<void>("terminal_resize", { size }),
  reply: (reply: Reply) => invoke<void>("reply", { reply }),
  answerQuestion: (answer: string) => invoke<void>("answer_question", { answer }),
  stopRun: () => invoke<void>("stop_run"),
  history: (learner: string | null, lab: string | null) => invoke<RunSummary[]>("history", { learner, lab }),
  classBoard: (lab: string | null) => invoke<BoardRow[]>("class_board", { lab }),
  /** Resolves when the board may have changed: at once on a class database's notification, else after `waitMs`. */
  classBoardChanged: (waitMs: number) => invoke<boolean>("class_board_changed", { waitMs }),
  /** The board's record's results (learners × labs) as CSV: on a class database, the whole class's. */
  exportClassSummary: (lab: string | null, path: string) => invoke<void>("export_class_summary", { lab, path }),
  summary: (learner: string | null, lab: string | null) => invoke<SummaryRow[]>("summary", { learner, lab }),
  missedQuestions: (learner: string | null, lab: string | null) =>
    invoke<MissedQuestion[]>("missed_questions", { learner, lab }),
  runReport: (runId: string) => invoke<RunReport>("run_report", { runId }),
  exportReport: (runId: string, format: ReportFormat, path: string) =>
    invoke<void>("export_report", { runId, format, path }),
  exportSummary: (learner: string | null, lab: string | null, path: string) =>
    invoke<void>("export_summary", { learner, lab, path }),
  cleanUpRun: (runId: string) => invoke<CleanupDone>("clean_up_run", { runId }),
  awsSetup: () => invoke<AwsSetup>("aws_setup"),
  awsPreflight: (lab: string, account: AwsAccount) => invoke<PreflightView>("aws_preflight", { lab, account }),
  awsCreateInstanceProfile: (account: AwsAccount) => invoke<string[]>("aws_create_instance_profile", { account }),
  /** What carries snaplab's tags: one recorded run's (in its account), or every run's in `account`. */
  awsLeftovers: (account: AwsAccount | null, runId: string | null) =>
    invoke<AwsLeftovers>("aws_leftovers", { account, runId }),
  awsDeleteLeftovers: (account: AwsAccount) => invoke<CleanupDone>("aws_delete_leftovers", { account }),
};

/** The runner's events, in the batches the bridge sends. */
export function onLabEvents(handler: (events: LabEvent[]) => void): Promise<UnlistenFn> {
  return listen<LabEvent[]>("lab-events", (e) => handler(e.payload));
}

/** A run that stopped on an error (its message says what to do). */
export function onRunError(handler: (failure: CommandFailure) => void): Promise<UnlistenFn> {
  return listen<CommandFailure>("run-error", (e) => handler(failure(e.payload)));
}

function isFailure(e: unknown): e is CommandFailure {
  return typeof e === "object" && e !== null && "code" in e && "message" in e && typeof e.message === "string";
}

/**
 * What a failed command said, as `{ code, message }`: commands fail with a
 * `CommandFailure`; anything else (a JS error, a plain string from the
 * Tauri layer itself) becomes an `internal` failure with its text.
 */
export function failure(e: unknown): CommandFailure {
  if (isFailure(e)) return e;
  const message = typeof e === "string" ? e : e instanceof Error ? e.message : JSON.stringify(e);
  return { code: "internal", message };
}

/** The text to show for a failed command. */
export function errorText(e: unknown): string {
  return failure(e).message;
}
