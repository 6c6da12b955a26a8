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
      pair: null,
    });
    expect(paused.title).toBe("Application-consistent");
    expect(paused.torn).toBe(0);
    expect(paused.pause).toBe("writes paused 1.5 s (about 75 orders waited)");
  });

  it("says nothing of a pause the run did not make", () => {
    const [crash] = sideBySide({ verifications: [verification(), app], pauses: [] });
    expect(crash.pause).toBeNull();
  });

  it("shows a restored pair's agreement: snapshots apart, then one set", () => {
    const pair = (apart_ms: number, phantom: number[], products: number) => ({
      inventory_snapshot_id: "snap-inv",
      restored_inventory_volume_id: "vol-inv",
      inventory_snapshot_started_at: "2026-11-30T12:00:00Z",
      apart_ms,
      stock_without_order: phantom,
      products_mismatched: products,
    });
    const apart = verification({ snapshot_id: "snap-a", pair: pair(206, [65, 66, 67], 2) });
    const set = verification({ snapshot_id: "snap-b", pair: pair(0, [], 0) });
    const [first, second] = sideBySide({ verifications: [apart, set], pauses: [] });
    expect(first.title).toBe("Two CreateSnapshot calls");
    expect(first.pair).toEqual({ apart: "206 ms apart", stockWithoutOrder: 3, productsMismatched: 2 });
    expect(second.title).toBe("One CreateSnapshots set");
    expect(second.pair).toEqual({ apart: "one instant", stockWithoutOrder: 0, productsMismatched: 0 });
  });
});
