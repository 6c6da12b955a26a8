import { describe, expect, it } from "vitest";
import { chartGeometry } from "./chart";

describe("orders chart geometry", () => {
  it("draws nothing but the frame before the first sample", () => {
    const g = chartGeometry([], null, null, 500, 200);
    expect(g.line).toBe("");
    expect(g.startX).toBeNull();
    expect(g.pending).toBeNull();
  });

  it("places the snapshot's start and end on the same time scale as the samples", () => {
    const points = [0, 5000, 10000, 20000].map((t) => ({ t, rate: 100, paused: false }));
    const g = chartGeometry(points, 5000, 15000, 500, 200);
    expect(g.maxT).toBe(20000);
    expect(g.startX).toBeCloseTo(g.left + g.width / 4);
    expect(g.endX).toBeCloseTo(g.left + (g.width * 3) / 4);
    expect(g.pending?.w).toBeCloseTo(g.width / 2);
  });

  it("extends the pending band to the latest sample while the snapshot is pending", () => {
    const points = [0, 8000].map((t) => ({ t, rate: 50, paused: false }));
    const g = chartGeometry(points, 4000, null, 500, 200);
    expect(g.endX).toBeNull();
    expect(g.pending!.x + g.pending!.w).toBeCloseTo(g.left + (8000 / g.maxT) * g.width);
  });

  it("keeps every point inside the plot", () => {
    const points = [{ t: 0, rate: 0, paused: false }, { t: 12000, rate: 300, paused: false }];
    const g = chartGeometry(points, null, null, 500, 200);
    for (const pair of g.line.split(" ")) {
      const [x, y] = pair.split(",").map(Number);
      expect(x).toBeGreaterThanOrEqual(g.left);
      expect(x).toBeLessThanOrEqual(g.left + g.width);
      expect(y).toBeGreaterThanOrEqual(g.top);
      expect(y).toBeLessThanOrEqual(g.top + g.height);
    }
  });
});
