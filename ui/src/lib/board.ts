// The instructor's board, pure: what each learner's state reads as, how long
// they have been on their step, who needs a look first, and the counts line.

import type { BoardRow } from "../bindings/BoardRow";
import type { LearnerState } from "../bindings/LearnerState";

export const stateLabel: Record<LearnerState, string> = {
  working: "Working",
  waiting: "Waiting for the learner",
  stuck: "Failed check",
  passed: "Finished: passed",
  failed: "Finished: failed",
  interrupted: "Interrupted",
  silent: "No contact",
};

/** States that need the instructor: shown first, in this order. */
const urgency: Record<LearnerState, number> = {
  stuck: 0,
  silent: 1,
  failed: 2,
  waiting: 3,
  working: 4,
  interrupted: 5,
  passed: 6,
};

/** Seconds on the current step at `now` (ms since the epoch), or null once the run ended. */
export function secondsOnStep(row: BoardRow, now: number): number | null {
  const running = row.state === "working" || row.state === "waiting" || row.state === "stuck";
  if (!running || !row.step_started_at) return null;
  return Math.max(0, Math.floor((now - Date.parse(row.step_started_at)) / 1000));
}

/** 75 → "1:15"; 3725 → "1:02:05". */
export function clock(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** Learners needing a look first (stuck, silent, failed, waiting longest), then by name. */
export function byUrgency(rows: BoardRow[], now: number): BoardRow[] {
  return [...rows].sort(
    (a, b) =>
      urgency[a.state] - urgency[b.state] ||
      (secondsOnStep(b, now) ?? 0) - (secondsOnStep(a, now) ?? 0) ||
      a.learner.localeCompare(b.learner),
  );
}

/** "5 learners · 2 working · 1 waiting · 1 failed check · 1 finished". */
export function countsLine(rows: BoardRow[]): string {
  const n = (states: LearnerState[]) => rows.filter((r) => states.includes(r.state)).length;
  const parts = [
    `${rows.length} learner${rows.length === 1 ? "" : "s"}`,
    n(["working"]) && `${n(["working"])} working`,
    n(["waiting"]) && `${n(["waiting"])} waiting`,
    n(["stuck"]) && `${n(["stuck"])} failed check`,
    n(["silent"]) && `${n(["silent"])} no contact`,
    n(["passed", "failed", "interrupted"]) && `${n(["passed", "failed", "interrupted"])} finished`,
  ];
  return parts.filter(Boolean).join(" · ");
}

/** "2/9 Take the snapshot", or a dash before the first step. */
export function stepText(row: BoardRow): string {
  return row.step_number && row.step_title ? `${row.step_number}/${row.steps_total} ${row.step_title}` : "—";
}
