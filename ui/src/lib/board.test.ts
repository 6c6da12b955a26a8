import { describe, expect, it } from "vitest";
import { boardRow } from "./fixtures";
import { byUrgency, clock, countsLine, secondsOnStep, stateLabel, stepText } from "./board";

const now = Date.parse("2026-11-30T10:10:00Z");

describe("board", () => {
  it("counts the time on a step only while the run is on one", () => {
    const row = boardRow({ state: "waiting", step_started_at: "2026-11-30T10:08:45Z" });
    expect(secondsOnStep(row, now)).toBe(75);
    expect(secondsOnStep({ ...row, state: "passed" }, now)).toBeNull();
    expect(secondsOnStep({ ...row, step_started_at: null }, now)).toBeNull();
    expect(secondsOnStep({ ...row, step_started_at: "2026-11-30T10:11:00Z" }, now)).toBe(0);
  });

  it("writes durations as a clock", () => {
    expect(clock(0)).toBe("0:00");
    expect(clock(75)).toBe("1:15");
    expect(clock(3725)).toBe("1:02:05");
  });

  it("puts who needs a look first: stuck, silent, failed, then waiting longest", () => {
    const rows = [
      boardRow({ learner: "passed", state: "passed" }),
      boardRow({ learner: "wait-short", state: "waiting", step_started_at: "2026-11-30T10:09:50Z" }),
      boardRow({ learner: "stuck", state: "stuck" }),
      boardRow({ learner: "wait-long", state: "waiting", step_started_at: "2026-11-30T10:01:00Z" }),
      boardRow({ learner: "silent", state: "silent" }),
      boardRow({ learner: "working", state: "working" }),
      boardRow({ learner: "failed", state: "failed" }),
    ];
    expect(byUrgency(rows, now).map((r) => r.learner)).toEqual([
      "stuck",
      "silent",
      "failed",
      "wait-long",
      "wait-short",
      "working",
      "passed",
    ]);
  });

  it("sums the class up in one line, leaving out states nobody is in", () => {
    expect(countsLine([])).toBe("0 learners");
    const rows = [
      boardRow({ state: "working" }),
      boardRow({ state: "working" }),
      boardRow({ state: "stuck" }),
      boardRow({ state: "passed" }),
      boardRow({ state: "interrupted" }),
    ];
    expect(countsLine(rows)).toBe("5 learners · 2 working · 1 failed check · 2 finished");
    expect(countsLine([boardRow({ state: "waiting" })])).toBe("1 learner · 1 waiting");
  });

  it("names each state and step in words", () => {
    expect(stateLabel.stuck).toBe("Failed check");
    expect(stepText(boardRow({ step_number: 2, steps_total: 9, step_title: "Take the snapshot" }))).toBe(
      "2/9 Take the snapshot",
    );
    expect(stepText(boardRow({ step_number: null, step_title: null }))).toBe("—");
  });
});
