// Events shaped as the runner sends them, for the unit tests.

import type { BoardRow } from "../bindings/BoardRow";
import type { LabDef } from "../bindings/LabDef";
import type { LabEvent } from "../bindings/LabEvent";
import type { RunContext } from "../bindings/RunContext";
import type { Question } from "../bindings/Question";

export const lab: LabDef = {
  id: "securecart-snapshot",
  title: "SecureCart",
  summary: "s",
  minutes: 20,
  order: 1,
  targets: ["embedded", "snaplab", "localstack", "moto", "other_endpoint", "aws"],
  shop: { record_size: 512, history_orders: 0, inventory_volume: false },
  steps: [
    { id: "start-shop", title: "Open the shop", page: "p", page_text: "# Open", action: "start_shop", hands_on: false, commands: [], checks: ["shop_taking_orders"] },
    { id: "create-snapshot", title: "Create the snapshot", page: "p", page_text: "# Create {{data_volume_id}}", action: "create_snapshot", hands_on: true, commands: ["aws ec2 create-snapshot --volume-id {{data_volume_id}}"], checks: ["snapshot_created"] },
  ],
  questions: [],
};

/** A knowledge check as a lab's questions.toml gives it. */
export const question: Question = {
  id: "keep-using",
  kind: "choice",
  prompt: "Can SecureCart keep using its volume while the snapshot is pending?",
  choices: ["No", "Yes", "Only reads"],
  answer: "Yes",
  explanation: "A snapshot is point-in-time: the volume stays usable.",
  source: "EC2 API reference, CreateSnapshot",
  after_step: "create-snapshot",
};

export const T0 = "2026-11-29T10:00:00Z";
export const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();

/** A learner's row on the class board. */
export function boardRow(patch: Partial<BoardRow> = {}): BoardRow {
  return {
    learner: "ada",
    run_id: "run-1",
    lab: lab.id,
    lab_title: lab.title,
    mode: "hands-on",
    state: "working",
    step_id: "create-snapshot",
    step_title: "Take the snapshot",
    step_number: 2,
    steps_total: 9,
    steps_passed: 1,
    step_started_at: "2026-11-30T10:08:00Z",
    waiting_since: null,
    message: null,
    quiz_correct: 0,
    quiz_asked: 0,
    started_at: "2026-11-30T10:05:00Z",
    finished_at: null,
    last_seen: "2026-11-30T10:09:55Z",
    ...patch,
  };
}

export function context(patch: Partial<RunContext> = {}): RunContext {
  return {
    run_id: "run-1",
    lab_id: lab.id,
    lab_title: lab.title,
    learner: "ann",
    mode: "guided",
    consistency: "crash",
    pace: "demo",
    target: { kind: "embedded", endpoint: "http://127.0.0.1:4566", region: "us-east-1", data_plane: "emulator", shadow_disk: false, profile: null, access_key: "test" },
    started_at: T0,
    store_seed: 1,
    scenario: { instance_id: "i-0a1b2c3d4e5f60789", zone: "us-east-1a", data_volume_id: "vol-0123456789abcdef0", data_device: "/dev/sdf", data_volume_bytes: 8589934592, inventory: null },
    snapshot_id: null,
    snapshot_started_at: null,
    previous_snapshot_id: null,
    snapshot_step_started_at: null,
    snapshot_consistency: null,
    verifications: [],
    pauses: [],
    comparison: null,
    reads: [],
    alerts: { topic_arn: null, inbox: [] },
    first_read_cost_set: false,
    answers: [],
    restored_volume_id: null,
    restored_device: "/dev/sdg",
    inventory: { snapshot_id: null, restored_volume_id: null, restored_device: "/dev/sdq" },
    step_started_at: null,
    shop_open: false,
    reattach: null,
    finished: [],
    resources: [],
    ...patch,
  };
}

export const started: LabEvent = { event: "run_started", run_id: "run-1", resumed: false, steps_total: 2, context: context(), terminal: "export X", at: T0 };
