// Records shaped as the app's commands return them, for the component tests.
// Every string that the Rust side may narrow to a union (outcomes, states,
// check ids, levels) holds a value valid in that union.

import type { AppInfo } from "../bindings/AppInfo";
import type { CommandFailure } from "../bindings/CommandFailure";
import type { ErrorCode } from "../bindings/ErrorCode";
import type { LabDef } from "../bindings/LabDef";
import type { LabEvent } from "../bindings/LabEvent";
import type { RunReport } from "../bindings/RunReport";
import type { RunSummary } from "../bindings/RunSummary";
import type { StepRow } from "../bindings/StepRow";
import type { SummaryRow } from "../bindings/SummaryRow";
import type { Verification } from "../bindings/Verification";
import { at, context, lab, T0 } from "../lib/fixtures";
import { applyAll, emptyRun, type ApiCallView, type RunView } from "../lib/runview";

/**
 * A command's rejection, in the `{ code, message }` shape the Rust side is
 * moving to. `errorText` shows its message either way (today by printing the
 * object, which contains it), so tests assert with `toContain(message)`.
 */
export function commandError(message: string, code: ErrorCode = "invalid"): CommandFailure {
  return { code, message };
}

export const info: AppInfo = {
  version: "0.1.0",
  db_path: "/home/ann/.local/share/snaplab/snaplab.db",
  class_db: null,
  default_learner: "ann",
};

/** A second lab, so that choosing one is a choice. */
export const otherLab: LabDef = {
  id: "restore-drill",
  title: "Restore drill",
  summary: "Restore a volume from last night's snapshot.",
  minutes: 10,
  order: 2,
  targets: ["embedded", "snaplab", "localstack", "moto", "other_endpoint", "aws"],
  shop: { record_size: 512, history_orders: 0, inventory_volume: false },
  steps: [
    { id: "restore", title: "Restore the volume", page: "p", page_text: "# Restore", action: "restore_volume", hands_on: true, commands: [], checks: ["restored_in_instance_zone"] },
  ],
  questions: [],
};

export function runSummary(patch: Partial<RunSummary> = {}): RunSummary {
  return {
    id: "run-1",
    lab: lab.id,
    target_kind: "embedded",
    target_endpoint: null,
    target_label: "built-in emulator",
    learner: "ann",
    mode: "guided",
    consistency: "crash",
    started_at: T0,
    finished_at: at(95),
    outcome: "passed",
    steps_passed: 9,
    steps_total: 9,
    resources_left: 0,
    quiz_correct: 0,
    quiz_asked: 0,
    ...patch,
  };
}

export function summaryRow(patch: Partial<SummaryRow> = {}): SummaryRow {
  return {
    learner: "ann",
    lab: lab.id,
    runs: 3,
    passed_runs: 2,
    last_outcome: "passed",
    last_started_at: T0,
    last_duration_s: 95.4,
    best_steps_passed: 9,
    steps_total: 9,
    quiz_correct: 0,
    quiz_asked: 0,
    ...patch,
  };
}

/** A crash-consistent snapshot that caught one order between its two writes. */
export function verification(patch: Partial<Verification> = {}): Verification {
  return {
    snapshot_id: "snap-0123456789abcdef0",
    restored_volume_id: "vol-0fedcba9876543210",
    snapshot_started_at: at(30),
    consistency: "crash",
    read_from: "emulator",
    image: { last_seq: 412, committed: 411, torn_seqs: [412], corrupt: 0, missing_positions: 0, intact: true },
    replayed: [412],
    torn_after_replay: 0,
    explanation: [
      "410 orders were acknowledged before the snapshot began; all 410 are on the restored volume.",
      "Order [412] is torn: its journal record was written but its stock row was not.",
    ],
    snapshot_started_at_us: 30_000_000,
    tolerance_us: 1000,
    acknowledged_before_snapshot: 410,
    present_in_restore: 410,
    missing: 0,
    missing_seqs: [],
    begun_after_snapshot: 57,
    after_snapshot_present: 0,
    after_snapshot_seqs: [],
    in_flight: 2,
    in_flight_present: 1,
    torn: 1,
    torn_seqs: [412],
    on_instance: null,
    pair: null,
    ...patch,
  };
}

export function stepRow(patch: Partial<StepRow> = {}): StepRow {
  return {
    step_id: "create-snapshot",
    title: "Create the snapshot",
    status: "passed",
    started_at: at(10),
    finished_at: at(20),
    checks: [{ check_id: "snapshot_created", passed: true, message: "snap-0123456789abcdef0 exists", at: at(20) }],
    commands: [],
    ...patch,
  };
}

export function runReport(patch: Partial<RunReport> = {}): RunReport {
  return {
    context: context(),
    steps: [
      stepRow({ step_id: "start-shop", title: "Open the shop", checks: [{ check_id: "shop_taking_orders", passed: true, message: "orders are flowing", at: at(5) }] }),
      stepRow(),
    ],
    verification: verification(),
    api_calls: [],
    notices: [],
    resources: [],
    orders_acknowledged: 467,
    orders_per_s: [],
    snapshot_percent: [],
    ...runSummary({ steps_passed: 2, steps_total: 2 }),
    ...patch,
  };
}

export function apiCall(patch: Partial<ApiCallView> = {}): ApiCallView {
  return {
    at: at(1),
    stepId: "create-snapshot",
    operation: "CreateSnapshot",
    durationMs: 12,
    requestId: "req-1",
    error: null,
    ...patch,
  };
}

type EventOf<K extends LabEvent["event"]> = Extract<LabEvent, { event: K }>;

export function stepStarted(stepId: string, patch: Partial<EventOf<"step_started">> = {}): EventOf<"step_started"> {
  return { event: "step_started", run_id: "run-1", step_id: stepId, index: 0, title: stepId, page: `# Page of ${stepId}`, commands: [], at: at(1), ...patch };
}

export function awaitingLearner(
  stepId: string,
  awaiting: EventOf<"awaiting_learner">["awaiting"],
  patch: Partial<EventOf<"awaiting_learner">> = {},
): EventOf<"awaiting_learner"> {
  return { event: "awaiting_learner", run_id: "run-1", step_id: stepId, awaiting, commands: [], page: `# Page of ${stepId}`, at: at(2), ...patch };
}

export function checkResult(patch: Partial<EventOf<"check_result">> = {}): EventOf<"check_result"> {
  return { event: "check_result", run_id: "run-1", step_id: "create-snapshot", check_id: "snapshot_created", passed: true, message: "found it", at: at(3), ...patch };
}

export function runFinished(patch: Partial<EventOf<"run_finished">> = {}): EventOf<"run_finished"> {
  return { event: "run_finished", run_id: "run-1", outcome: "passed", steps_passed: 2, steps_total: 2, at: at(60), ...patch };
}

export function notice(level: EventOf<"notice">["level"], message: string): EventOf<"notice"> {
  return { event: "notice", run_id: "run-1", level, message, at: at(1) };
}

/** The run view after these events, on the shared lab fixture. */
export function runView(events: LabEvent[], def: LabDef = lab): RunView {
  return applyAll(emptyRun(def), events);
}

import type { AwsSetup } from "../bindings/AwsSetup";
import type { PreflightView } from "../bindings/PreflightView";
import type { AwsLeftovers } from "../bindings/AwsLeftovers";

/** The learner's AWS config files: an SSO profile, a keys profile, one that needs MFA. */
export const awsSetup: AwsSetup = {
  profiles: [
    { name: "lab", kind: "IAM Identity Center (SSO)", region: "eu-west-1", unusable: null },
    { name: "keys", kind: "access keys", region: null, unusable: null },
    { name: "mfa", kind: "role with MFA", region: null, unusable: "it asks for an MFA code, which snaplab cannot prompt for" },
  ],
  env_profile: null,
  env_region: null,
};

/** A preflight that found everything allowed. */
export function preflightView(patch: Partial<PreflightView> = {}): PreflightView {
  return {
    account: "123456789012",
    arn: "arn:aws:sts::123456789012:assumed-role/learner/ann",
    region: "eu-west-1",
    zone: "eu-west-1a",
    endpoint_note: null,
    checks: [
      { action: "ec2:RunInstances", allowed: true, detail: "allowed (DryRun)", statements: [] },
      { action: "ec2:CreateSnapshot", allowed: true, detail: "allowed (DryRun)", statements: [] },
    ],
    ready: true,
    only_instance_profile_missing: false,
    instance_profile: "snaplab-ssm",
    resources: ["an EC2 instance, t3.nano (x86_64)", "a 1 GiB gp3 data volume"],
    instance_type: "t3.nano",
    instance_type_reason: "the cheapest type in snaplab's price table",
    expected_minutes: 45,
    estimated_cost_usd: 0.0123,
    cost: [{ item: "t3.nano for 0.75 h", usd: 0.0039 }],
    region_priced: true,
    prices_checked: "2026-11-01",
    consent: "snaplab will create, in AWS account 123456789012 (arn), region eu-west-1, zone eu-west-1a:\n  - an EC2 instance\n",
    ...patch,
  };
}

export function awsLeftovers(patch: Partial<AwsLeftovers> = {}): AwsLeftovers {
  return {
    region: "eu-west-1",
    endpoint_note: null,
    items: [
      { kind: "instance", id: "i-0abc", run: "run-9", state: "running" },
      { kind: "volume", id: "vol-0def", run: "run-9", state: "in-use" },
    ],
    ...patch,
  };
}
