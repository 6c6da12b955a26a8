import { describe, expect, it } from "vitest";
import type { ReadPass } from "../bindings/ReadPass";
import { median, readChart, readLabel } from "./readchart";

const MIB = 1024 * 1024;

function pass(kind: ReadPass["kind"], rates: number[], extra: Partial<ReadPass> = {}): ReadPass {
  return {
    kind,
    volume_id: "vol-0aaa",
    offset: 0,
    length: rates.length * MIB,
    samples: rates.map((mib_per_s, i) => ({ offset: i * MIB, mib_per_s })),
    seconds: 1,
    blocks_fetched: 4,
    progress_before: 0,
    progress_after: 50,
    ...extra,
  };
}

describe("read chart", () => {
  it("names each read as the report does, a fast-restored first read apart", () => {
    expect(readLabel(pass("first", [30]))).toBe("first read");
    expect(readLabel(pass("again", [900]))).toBe("second read");
    expect(readLabel(pass("initialize", [30]))).toBe("initialize (every block once)");
    expect(readLabel(pass("first", [900], { progress_before: 100 }))).toBe("first read, Fast Snapshot Restore");
  });

  it("puts slow reads low and fast ones high on whole decades", () => {
    const g = readChart([pass("first", [30, 32]), pass("again", [800, 900])], 520, 200);
    expect(g.ticks.map((t) => t.label)).toEqual(["1", "10", "100", "1000"]);
    const yOf = (points: string) => Number(points.split(" ")[0].split(",")[1]);
    expect(yOf(g.series[0].points)).toBeGreaterThan(yOf(g.series[1].points));
    expect(g.series[1].kind).toBe("again");
    expect(g.series[0].median).toBe(31);
  });

  it("spans the longest read and steps across each chunk", () => {
    const g = readChart([pass("first", [30, 30]), pass("initialize", [900, 900, 30, 30])], 520, 200);
    expect(g.maxMiB).toBe(4);
    // Two points per chunk: its start and its end.
    expect(g.series[1].points.split(" ")).toHaveLength(8);
    const xs = g.series[1].points.split(" ").map((p) => Number(p.split(",")[0]));
    expect(xs[xs.length - 1]).toBeCloseTo(g.left + g.width);
  });

  it("widens the decades for a very fast cache and copes with no samples", () => {
    const g = readChart([pass("again", [25_000])], 520, 200);
    expect(g.ticks[g.ticks.length - 1].label).toBe("100000");
    expect(readChart([], 520, 200).series).toEqual([]);
    expect(median([])).toBe(0);
    expect(median([1, 3, 2, 4])).toBe(2.5);
  });
});
