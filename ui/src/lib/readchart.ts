// Geometry of the restore-initialization lab's read-throughput chart: MiB/s
// of each 1 MiB read over the volume's offset, one line per read, on a log
// scale (a first read at tens of MiB/s and a cached one at hundreds share
// the plot). Pure, so it is unit-tested.

import type { ReadPass } from "../bindings/ReadPass";

const MIB = 1024 * 1024;

export interface ReadSeries {
  label: string;
  /** CSS class: which line style. */
  kind: "first" | "again" | "initialize" | "fast";
  points: string;
  median: number;
  fetched: number | null;
  volumeId: string;
}

export interface ReadChartGeometry {
  left: number;
  top: number;
  width: number;
  height: number;
  maxMiB: number;
  ticks: { y: number; label: string }[];
  series: ReadSeries[];
}

/** What a read is called (the report's words). */
export function readLabel(p: ReadPass): string {
  if (p.kind === "initialize") return "initialize (every block once)";
  if (p.kind === "again") return "second read";
  return p.progress_before === 100 ? "first read, Fast Snapshot Restore" : "first read";
}

function seriesKind(p: ReadPass): ReadSeries["kind"] {
  if (p.kind === "first" && p.progress_before === 100) return "fast";
  return p.kind;
}

export function median(values: number[]): number {
  if (!values.length) return 0;
  const v = [...values].sort((a, b) => a - b);
  const n = v.length;
  return n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

export function readChart(passes: ReadPass[], w: number, h: number): ReadChartGeometry {
  const left = 44;
  const top = 8;
  const width = w - left - 8;
  const height = h - top - 20;
  const maxMiB = Math.max(1, ...passes.map((p) => (p.offset + p.length) / MIB));
  const rates = passes.flatMap((p) => p.samples.map((s) => s.mib_per_s)).filter((r) => r > 0);
  // Whole decades around every sample, at least 1–1000 MiB/s.
  const lo = Math.min(0, Math.floor(Math.log10(Math.min(...rates, 10))));
  const hi = Math.max(3, Math.ceil(Math.log10(Math.max(...rates, 10))));
  const x = (offset: number) => left + (offset / MIB / maxMiB) * width;
  const y = (rate: number) => {
    const l = Math.log10(Math.max(rate, 10 ** lo));
    return top + height - ((l - lo) / (hi - lo)) * height;
  };
  const ticks = [];
  for (let d = lo; d <= hi; d++) ticks.push({ y: y(10 ** d), label: String(10 ** d) });
  const series = passes.map((p) => ({
    label: readLabel(p),
    kind: seriesKind(p),
    // Each 1 MiB read is a step: flat across the bytes it covered.
    points: p.samples
      .flatMap((s, i) => {
        const end = i + 1 < p.samples.length ? p.samples[i + 1].offset : p.offset + p.length;
        return [`${x(s.offset).toFixed(1)},${y(s.mib_per_s).toFixed(1)}`, `${x(end).toFixed(1)},${y(s.mib_per_s).toFixed(1)}`];
      })
      .join(" "),
    median: median(p.samples.map((s) => s.mib_per_s)),
    fetched: p.blocks_fetched,
    volumeId: p.volume_id,
  }));
  return { left, top, width, height, maxMiB, ticks, series };
}
