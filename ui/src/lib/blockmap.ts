// The incremental lab's picture: two snapshots compared block by block,
// as cells over the part of the volume that was ever written. Pure, so the
// results page only draws what this returns.
import type { BlockComparison } from "../bindings/BlockComparison";

export type CellKind = "changed" | "held" | "empty";

export interface BlockMap {
  cells: CellKind[];
  /** Blocks each cell stands for (1 unless the written part is large). */
  blocksPerCell: number;
  /** Blocks the map covers: from block 0 to the last one written. */
  coveredBlocks: number;
}

/** Snapshot storage price used for the estimate (USD per GB-month, standard tier, us-east-1). */
export const SNAPSHOT_USD_PER_GB_MONTH = 0.05;

const GB = 1_000_000_000;

/**
 * Cells from block 0 to the last block the second snapshot holds; a cell
 * covering several blocks is "changed" if any of them changed, else "held"
 * if any is held.
 */
export function blockMap(c: BlockComparison, maxCells = 512): BlockMap {
  const last = c.held.length ? Math.max(...c.held) : -1;
  const coveredBlocks = last + 1;
  if (coveredBlocks === 0) return { cells: [], blocksPerCell: 1, coveredBlocks: 0 };
  const blocksPerCell = Math.max(1, Math.ceil(coveredBlocks / maxCells));
  const count = Math.ceil(coveredBlocks / blocksPerCell);
  const cells: CellKind[] = new Array(count).fill("empty");
  for (const b of c.held) {
    const i = Math.floor(b / blocksPerCell);
    if (cells[i] === "empty") cells[i] = "held";
  }
  for (const b of c.changed) cells[Math.floor(b / blocksPerCell)] = "changed";
  return { cells, blocksPerCell, coveredBlocks };
}

export interface ComparisonFigures {
  changed: number;
  held: number;
  volumeBlocks: number;
  changedBytes: number;
  heldBytes: number;
  volumeBytes: number;
  /** Changed blocks as a share of what the second snapshot holds, in percent. */
  changedShare: number;
  /** What the second snapshot adds per month, in USD, at SNAPSHOT_USD_PER_GB_MONTH. */
  addedUsdPerMonth: number;
  /** What a full copy of the volume would cost per month. */
  fullCopyUsdPerMonth: number;
}

export function comparisonFigures(c: BlockComparison): ComparisonFigures {
  const changedBytes = c.changed.length * c.block_size;
  const heldBytes = c.held.length * c.block_size;
  return {
    changed: c.changed.length,
    held: c.held.length,
    volumeBlocks: Math.ceil(c.volume_size_bytes / Math.max(1, c.block_size)),
    changedBytes,
    heldBytes,
    volumeBytes: c.volume_size_bytes,
    changedShare: c.held.length ? (100 * c.changed.length) / c.held.length : 0,
    addedUsdPerMonth: (changedBytes / GB) * SNAPSHOT_USD_PER_GB_MONTH,
    fullCopyUsdPerMonth: (c.volume_size_bytes / GB) * SNAPSHOT_USD_PER_GB_MONTH,
  };
}

/** Bytes as MiB or GiB, one decimal. */
export function size(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return mib >= 1024 ? `${(mib / 1024).toFixed(1)} GiB` : `${mib.toFixed(1)} MiB`;
}

/** A dollar amount small or large, readable. */
export function usd(amount: number): string {
  return amount >= 0.01 ? `$${amount.toFixed(2)}` : `$${amount.toFixed(4)}`;
}
