import { describe, expect, it } from "vitest";
import { sideBySide } from "./sidebyside";
import { verification } from "../components/fixtures";

const app = verification({
  snapshot_id: "snap-2",
  consistency: "app",
  image: { last_seq: 900, committed: 900, torn_seqs: [], corrupt: 0, missing_positions: 0, intact: true },
  replayed: [],
  acknowledged_before_snapshot: 899,
  present_in_restore: 899,
  begun_after_snapshot: 12,
});
const pauses = [
  { step_id: "detach", around_snapshot: false, mid_order: false, paused_ms: 9000, orders_delayed: 450 },
  { step_id: "crash-snapshot", around_snapshot: true, mid_order: true, paused_ms: 40, orders_delayed: 2 },
  { step_id: "app-snapshot", around_snapshot: true, mid_order: false, paused_ms: 1500, orders_delayed: 75 },
];

describe("sideBySide", () => {
  it("compares nothing for a run with one restore", () => {
    expect(sideBySide({ verifications: [verification()], pauses: [] })).toEqual([]);
  });

  it("puts each restore in a column with its pause's cost", () => {
    const [crash, paused] = sideBySide({ verifications: [verification(), app], pauses });
    expect(crash).toEqual({
      title: "Crash-consistent",
      snapshotId: "snap-0123456789abcdef0",
      found: "410 / 410",
      missing: 0,
      afterPresent: "0 / 57",
      torn: 1,
      replayed: 1,
      pause: "one order held half-written for 40 ms",
    });
    expect(paused.title).toBe("Application-consistent");
    expect(paused.torn).toBe(0);
    expect(paused.pause).toBe("writes paused 1.5 s (about 75 orders waited)");
  });

  it("says nothing of a pause the run did not make", () => {
    const [crash] = sideBySide({ verifications: [verification(), app], pauses: [] });
    expect(crash.pause).toBeNull();
  });
});
