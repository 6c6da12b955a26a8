import { describe, expect, it } from "vitest";
import { blockMap, comparisonFigures, size, usd } from "./blockmap";
import type { BlockComparison } from "../bindings/BlockComparison";

const BLOCK = 524288;

function comparison(changed: number[], held: number[]): BlockComparison {
  return {
    first_snapshot_id: "snap-1",
    second_snapshot_id: "snap-2",
    block_size: BLOCK,
    volume_size_bytes: 8 * 1024 * 1024 * 1024,
    changed,
    held,
    source: "emulator",
  };
}

describe("blockMap", () => {
  it("draws one cell per block up to the last written one", () => {
    const m = blockMap(comparison([2, 3], [0, 2, 3, 5]));
    expect(m.blocksPerCell).toBe(1);
    expect(m.coveredBlocks).toBe(6);
    expect(m.cells).toEqual(["held", "empty", "changed", "changed", "empty", "held"]);
  });

  it("groups blocks into cells when the written part is large; a changed block marks its cell", () => {
    const held = Array.from({ length: 1000 }, (_, i) => i * 2);
    const m = blockMap(comparison([1998], held), 100);
    expect(m.blocksPerCell).toBe(20);
    expect(m.cells).toHaveLength(100);
    expect(m.cells.at(-1)).toBe("changed");
    expect(m.cells.filter((c) => c === "changed")).toHaveLength(1);
    expect(m.cells.filter((c) => c === "empty")).toHaveLength(0);
  });

  it("is empty for a snapshot that holds nothing", () => {
    expect(blockMap(comparison([], [])).cells).toEqual([]);
  });
});

describe("comparisonFigures", () => {
  it("counts bytes, the share that changed and what it costs", () => {
    const f = comparisonFigures(comparison([1, 2], [0, 1, 2, 3]));
    expect(f.changedBytes).toBe(2 * BLOCK);
    expect(f.heldBytes).toBe(4 * BLOCK);
    expect(f.changedShare).toBe(50);
    expect(f.volumeBlocks).toBe(16384);
    expect(f.addedUsdPerMonth).toBeCloseTo((2 * BLOCK * 0.05) / 1e9, 12);
    expect(f.fullCopyUsdPerMonth).toBeCloseTo(0.429, 3);
  });

  it("writes sizes and amounts for a learner", () => {
    expect(size(5.5 * 1024 * 1024)).toBe("5.5 MiB");
    expect(size(8 * 1024 * 1024 * 1024)).toBe("8.0 GiB");
    expect(usd(0.43)).toBe("$0.43");
    expect(usd(0.00027)).toBe("$0.0003");
  });
});
