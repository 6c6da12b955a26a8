// How long the window spends handling each batch of events (folding it into
// the view and updating the DOM). The frame-time benchmark reads it from
// `window.__snaplabPerf` after a demo-pace run.

export interface PerfLog {
  batches: number;
  events: number;
  handleMs: number[];
  frameGapsMs: number[];
}

declare global {
  interface Window {
    __snaplabPerf?: PerfLog;
  }
}

export function perfLog(): PerfLog {
  if (!window.__snaplabPerf) window.__snaplabPerf = { batches: 0, events: 0, handleMs: [], frameGapsMs: [] };
  return window.__snaplabPerf;
}

/** Records the gaps between animation frames while `active()` holds. */
export function watchFrames(active: () => boolean): void {
  let last = performance.now();
  const tick = (now: number) => {
    if (active()) perfLog().frameGapsMs.push(now - last);
    last = now;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}
