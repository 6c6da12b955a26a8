// Restores verified side by side, one column each: the crash- vs
// application-consistent lab's (with what the pause around each snapshot
// cost) and the multi-volume lab's pairs (how far apart the two snapshots
// began, and the stock changes the pair holds without their order).
// Pure, so the results page only draws what this returns.
import type { RunContext } from "../bindings/RunContext";
import type { Verification } from "../bindings/Verification";
import type { ShopPauseRecord } from "../bindings/ShopPauseRecord";
import type { PairFinding } from "../bindings/PairFinding";

export interface Column {
  title: string;
  snapshotId: string;
  found: string;
  missing: number;
  afterPresent: string;
  torn: number;
  replayed: number;
  /** How the shop stopped around the snapshot, and what it cost; null when it did not. */
  pause: string | null;
  /** A restored pair of volumes (the multi-volume lab); null for one volume. */
  pair: PairCells | null;
}

export interface PairCells {
  /** "206 ms apart", or "one instant". */
  apart: string;
  stockWithoutOrder: number;
  productsMismatched: number;
}

function pairCells(p: PairFinding): PairCells {
  return {
    apart: p.apart_ms === 0 ? "one instant" : `${duration(p.apart_ms)} apart`,
    stockWithoutOrder: p.stock_without_order.length,
    productsMismatched: p.products_mismatched,
  };
}

function title(v: Verification): string {
  if (!v.pair) return TITLES[v.consistency];
  return v.pair.apart_ms === 0 ? "One CreateSnapshots set" : "Two CreateSnapshot calls";
}

const TITLES = { crash: "Crash-consistent", app: "Application-consistent" } as const;

/** The pause that belongs to a verification: the held order for a crash-consistent one, the quiesce for an application-consistent one. */
function pauseFor(v: Verification, pauses: ShopPauseRecord[]): ShopPauseRecord | undefined {
  const midOrder = v.consistency === "crash";
  return pauses.find((p) => p.around_snapshot && p.mid_order === midOrder);
}

/** A short span in the unit that reads best: milliseconds under a second. */
function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function pauseText(p: ShopPauseRecord): string {
  return p.mid_order
    ? `one order held half-written for ${duration(p.paused_ms)}`
    : `writes paused ${duration(p.paused_ms)} (about ${p.orders_delayed} orders waited)`;
}

/** One column per restore verified, oldest first; none unless there are two or more to compare. */
export function sideBySide(ctx: Pick<RunContext, "verifications" | "pauses">): Column[] {
  if (ctx.verifications.length < 2) return [];
  return ctx.verifications.map((v) => {
    const p = pauseFor(v, ctx.pauses);
    return {
      title: title(v),
      snapshotId: v.snapshot_id,
      found: `${v.present_in_restore} / ${v.acknowledged_before_snapshot}`,
      missing: v.missing,
      afterPresent: `${v.after_snapshot_present} / ${v.begun_after_snapshot}`,
      torn: v.image.torn_seqs.length,
      replayed: v.replayed.length,
      pause: p ? pauseText(p) : null,
      pair: v.pair ? pairCells(v.pair) : null,
    };
  });
}
