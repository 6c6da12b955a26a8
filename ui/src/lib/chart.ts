// Geometry of the orders/s chart: pure, so it is unit-tested.

import type { OrdersPoint } from "./runview";

export interface ChartGeometry {
  left: number;
  top: number;
  width: number;
  height: number;
  maxT: number;
  maxRate: number;
  line: string;
  startX: number | null;
  endX: number | null;
  pending: { x: number; w: number } | null;
}

export function chartGeometry(
  points: OrdersPoint[],
  startedT: number | null,
  completedT: number | null,
  w: number,
  h: number,
): ChartGeometry {
  const left = 36;
  const top = 6;
  const width = w - left - 6;
  const height = h - top - 18;
  const lastT = points.length ? points[points.length - 1].t : 0;
  const maxT = Math.max(10_000, lastT, startedT ?? 0, completedT ?? 0);
  const maxRate = Math.max(10, ...points.map((p) => p.rate)) * 1.15;
  const x = (t: number) => left + (t / maxT) * width;
  const y = (r: number) => top + height - (r / maxRate) * height;
  const line = points.map((p) => `${x(p.t).toFixed(1)},${y(p.rate).toFixed(1)}`).join(" ");
  const startX = startedT === null ? null : x(startedT);
  const endX = completedT === null ? null : x(completedT);
  const pending = startX === null ? null : { x: startX, w: (endX ?? x(lastT)) - startX };
  return { left, top, width, height, maxT, maxRate, line, startX, endX, pending };
}
