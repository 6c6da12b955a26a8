// The lab player's view of a run, folded from the runner's events. Pure
// functions only (no Svelte, no Tauri), so the reducer is unit-tested.

import type { LabEvent } from "../bindings/LabEvent";
import type { LabDef } from "../bindings/LabDef";
import type { RunContext } from "../bindings/RunContext";
import type { VolumeInfo } from "../bindings/VolumeInfo";
import type { VolumeState } from "../bindings/VolumeState";
import type { AttachmentState } from "../bindings/AttachmentState";
import type { Verification } from "../bindings/Verification";
import type { Awaiting } from "../bindings/Awaiting";
import type { CheckId } from "../bindings/CheckId";
import type { Level } from "../bindings/Level";
import type { RunOutcome } from "../bindings/RunOutcome";
import type { SnapshotState } from "../bindings/SnapshotState";
import type { StepOutcome } from "../bindings/StepOutcome";
import type { Question } from "../bindings/Question";
import type { Answer } from "../bindings/Answer";

export type StepStatus = "pending" | "running" | "waiting" | StepOutcome;

export interface CheckView {
  checkId: CheckId;
  passed: boolean;
  message: string;
}

export interface StepView {
  id: string;
  title: string;
  handsOn: boolean;
  status: StepStatus;
  checks: CheckView[];
}

export interface OrdersPoint {
  /** Milliseconds since the run started. */
  t: number;
  rate: number;
  paused: boolean;
}

export interface ApiCallView {
  at: string;
  stepId: string | null;
  operation: string;
  durationMs: number;
  requestId: string | null;
  error: string | null;
}

export interface NoticeView {
  level: Level;
  message: string;
}

export interface RunView {
  context: RunContext | null;
  /** The shell line that points a terminal's aws CLI at this run's cloud. */
  terminal: string;
  steps: StepView[];
  current: string | null;
  awaiting: { stepId: string; awaiting: Awaiting; commands: string[]; page: string } | null;
  /** Each started step's page and commands, ids filled in. */
  pages: Record<string, { page: string; commands: string[] }>;
  snapshot: { id: string; state: SnapshotState; percent: number } | null;
  /** Milliseconds since the run started, for the chart's marks. */
  snapshotStartedT: number | null;
  snapshotCompletedT: number | null;
  orders: OrdersPoint[];
  acknowledged: number;
  lastSeq: number;
  apiCalls: ApiCallView[];
  volumes: VolumeInfo[];
  notices: NoticeView[];
  verification: Verification | null;
  /** The knowledge check waiting for the learner's answer. */
  question: { question: Question; index: number; total: number } | null;
  /** Knowledge checks answered so far, with what to show after each. */
  answered: { question: Question; answer: Answer }[];
  /** The latest answer's verdict and explanation, shown until the next step starts. */
  feedback: { question: Question; answer: Answer } | null;
  finished: { outcome: RunOutcome; stepsPassed: number; stepsTotal: number } | null;
}

/** Enough to draw minutes of history without the chart or the log growing without bound. */
export const MAX_POINTS = 1200;
export const MAX_CALLS = 400;

export function emptyRun(lab: LabDef): RunView {
  return {
    context: null,
    terminal: "",
    steps: lab.steps.map((s) => ({ id: s.id, title: s.title, handsOn: s.hands_on, status: "pending", checks: [] })),
    current: null,
    awaiting: null,
    pages: {},
    snapshot: null,
    snapshotStartedT: null,
    snapshotCompletedT: null,
    orders: [],
    acknowledged: 0,
    lastSeq: 0,
    apiCalls: [],
    volumes: [],
    notices: [],
    verification: null,
    question: null,
    answered: [],
    feedback: null,
    finished: null,
  };
}

function sinceStart(view: RunView, at: string): number {
  const start = view.context ? Date.parse(view.context.started_at) : Date.parse(at);
  return Math.max(0, Date.parse(at) - start);
}

function setStep(view: RunView, id: string, patch: Partial<StepView>): void {
  const step = view.steps.find((s) => s.id === id);
  if (step) Object.assign(step, patch);
}

function pushCapped<T>(list: T[], item: T, cap: number): void {
  list.push(item);
  if (list.length > cap) list.splice(0, list.length - cap);
}

/** Applies one event in place. */
export function apply(view: RunView, event: LabEvent): void {
  switch (event.event) {
    case "run_started":
    case "context_changed": {
      view.context = event.context;
      for (const [id, outcome] of event.context.finished) setStep(view, id, { status: outcome });
      if (event.context.snapshot_started_at && view.snapshotStartedT === null) {
        view.snapshotStartedT = sinceStart(view, event.context.snapshot_started_at);
      }
      if (event.event === "run_started") {
        view.terminal = event.terminal;
        view.finished = null;
      }
      break;
    }
    case "notice":
      view.notices.push({ level: event.level, message: event.message });
      break;
    case "step_started":
      view.current = event.step_id;
      view.awaiting = null;
      view.feedback = null;
      view.pages[event.step_id] = { page: event.page, commands: event.commands };
      setStep(view, event.step_id, { status: "running", checks: [] });
      break;
    case "awaiting_learner":
      view.awaiting = { stepId: event.step_id, awaiting: event.awaiting, commands: event.commands, page: event.page };
      view.pages[event.step_id] = { page: event.page, commands: event.commands };
      setStep(view, event.step_id, { status: "waiting" });
      break;
    case "api_call":
      pushCapped(
        view.apiCalls,
        {
          at: event.at,
          stepId: event.step_id,
          operation: event.operation,
          durationMs: event.duration_ms,
          requestId: event.request_id,
          error: event.error,
        },
        MAX_CALLS,
      );
      break;
    case "snapshot_progress": {
      view.snapshot = { id: event.snapshot_id, state: event.state, percent: event.percent };
      if (view.snapshotStartedT === null) view.snapshotStartedT = sinceStart(view, event.at);
      if (event.state === "completed" && view.snapshotCompletedT === null) {
        view.snapshotCompletedT = sinceStart(view, event.at);
      }
      break;
    }
    case "workload_sample":
      pushCapped(
        view.orders,
        { t: sinceStart(view, event.at), rate: event.orders_per_s, paused: event.paused },
        MAX_POINTS,
      );
      view.acknowledged = event.acknowledged;
      view.lastSeq = event.last_seq;
      break;
    case "volumes":
      view.volumes = event.volumes;
      break;
    case "check_result": {
      const step = view.steps.find((s) => s.id === event.step_id);
      if (step) {
        // A re-check replaces the earlier verdict of the same check.
        step.checks = step.checks.filter((c) => c.checkId !== event.check_id);
        step.checks.push({ checkId: event.check_id, passed: event.passed, message: event.message });
      }
      break;
    }
    case "step_finished":
      setStep(view, event.step_id, { status: event.outcome });
      if (view.awaiting?.stepId === event.step_id) view.awaiting = null;
      if (view.current === event.step_id) view.current = null;
      break;
    case "verification":
      view.verification = event.verification;
      break;
    case "question_asked":
      view.question = { question: event.question, index: event.index, total: event.total };
      break;
    case "question_answered":
      if (view.question?.question.id === event.question.id) view.question = null;
      // Not asked (nobody to answer): nothing to show.
      if (event.answer.asked && !view.answered.some((a) => a.question.id === event.question.id)) {
        view.answered.push({ question: event.question, answer: event.answer });
      }
      if (event.answer.asked) view.feedback = { question: event.question, answer: event.answer };
      break;
    case "run_finished":
      view.question = null;
      view.awaiting = null;
      view.current = null;
      view.finished = { outcome: event.outcome, stepsPassed: event.steps_passed, stepsTotal: event.steps_total };
      break;
    case "resource_created":
    case "resource_deleted":
      break;
    default: {
      // Every event kind is handled above: a new one fails to compile here until it is.
      const unhandled: never = event;
      return unhandled;
    }
  }
}

/** Applies a batch (as the app's bridge sends them) and returns the view. */
export function applyAll(view: RunView, events: LabEvent[]): RunView {
  for (const e of events) apply(view, e);
  return view;
}

/** What the diagram draws: the instance and each volume's place. */
export interface DiagramVolume {
  id: string;
  role: "data" | "inventory" | "restored" | "other";
  attached: boolean;
  device: string | null;
  state: VolumeState;
  attachmentState: AttachmentState | null;
  fromSnapshot: string | null;
}

function roleOf(view: RunView, id: string): DiagramVolume["role"] {
  const ctx = view.context;
  if (id === ctx?.scenario?.data_volume_id) return "data";
  if (id === ctx?.scenario?.inventory?.volume_id) return "inventory";
  if (id === ctx?.restored_volume_id || id === ctx?.inventory.restored_volume_id) return "restored";
  return "other";
}

export function diagramVolumes(view: RunView): DiagramVolume[] {
  const scenario = view.context?.scenario;
  return view.volumes.map((v) => ({
    id: v.id,
    role: roleOf(view, v.id),
    attached: v.attachment?.state === "attached",
    device: v.attachment?.device ?? null,
    state: v.state,
    attachmentState: v.attachment?.state ?? null,
    fromSnapshot: v.snapshot_id,
  }));
}
