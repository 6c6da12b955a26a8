import { describe, expect, it } from "vitest";
import { apply, applyAll, diagramVolumes, emptyRun, MAX_POINTS } from "./runview";
import { at, context, lab, question, started } from "./fixtures";
import type { LabEvent } from "../bindings/LabEvent";

describe("run view", () => {
  it("starts with every step pending", () => {
    const v = emptyRun(lab);
    expect(v.steps.map((s) => s.status)).toEqual(["pending", "pending"]);
  });

  it("walks a step from running through waiting to passed, with its checks", () => {
    const v = applyAll(emptyRun(lab), [
      started,
      { event: "step_started", run_id: "run-1", step_id: "create-snapshot", index: 1, title: "t", page: "# filled vol-1", commands: ["aws x"], at: at(1) },
    ]);
    expect(v.steps[1].status).toBe("running");
    expect(v.pages["create-snapshot"].page).toBe("# filled vol-1");
    apply(v, { event: "awaiting_learner", run_id: "run-1", step_id: "create-snapshot", awaiting: "check", commands: ["aws y"], page: "# p", at: at(2) });
    expect(v.steps[1].status).toBe("waiting");
    expect(v.awaiting?.awaiting).toBe("check");
    apply(v, { event: "check_result", run_id: "run-1", step_id: "create-snapshot", check_id: "snapshot_created", passed: false, message: "no snapshot yet", at: at(3) });
    apply(v, { event: "check_result", run_id: "run-1", step_id: "create-snapshot", check_id: "snapshot_created", passed: true, message: "found", at: at(4) });
    expect(v.steps[1].checks).toEqual([{ checkId: "snapshot_created", passed: true, message: "found" }]);
    apply(v, { event: "step_finished", run_id: "run-1", step_id: "create-snapshot", outcome: "passed", at: at(5) });
    expect(v.steps[1].status).toBe("passed");
    expect(v.awaiting).toBeNull();
  });

  it("marks the snapshot's start and completion on the chart's time axis", () => {
    const v = applyAll(emptyRun(lab), [
      started,
      { event: "snapshot_progress", run_id: "run-1", snapshot_id: "snap-1", state: "pending", percent: 0, at: at(4) },
      { event: "snapshot_progress", run_id: "run-1", snapshot_id: "snap-1", state: "pending", percent: 60, at: at(7) },
      { event: "snapshot_progress", run_id: "run-1", snapshot_id: "snap-1", state: "completed", percent: 100, at: at(10) },
    ]);
    expect(v.snapshot).toEqual({ id: "snap-1", state: "completed", percent: 100 });
    expect(v.snapshotStartedT).toBe(4000);
    expect(v.snapshotCompletedT).toBe(10000);
  });

  it("prefers the recorded snapshot start time over the first progress sample", () => {
    const v = applyAll(emptyRun(lab), [
      started,
      { event: "context_changed", run_id: "run-1", context: context({ snapshot_id: "snap-1", snapshot_started_at: at(3.5) }), at: at(3.6) },
      { event: "snapshot_progress", run_id: "run-1", snapshot_id: "snap-1", state: "pending", percent: 5, at: at(5) },
    ]);
    expect(v.snapshotStartedT).toBe(3500);
  });

  it("keeps a bounded window of workload samples", () => {
    const v = applyAll(emptyRun(lab), [started]);
    const samples: LabEvent[] = Array.from({ length: MAX_POINTS + 50 }, (_, i) => ({
      event: "workload_sample",
      run_id: "run-1",
      orders_per_s: 100 + i,
      acknowledged: i,
      last_seq: i,
      paused: false,
      at: at(i / 10),
    }));
    applyAll(v, samples);
    expect(v.orders).toHaveLength(MAX_POINTS);
    expect(v.orders[v.orders.length - 1].rate).toBe(100 + MAX_POINTS + 49);
    expect(v.acknowledged).toBe(MAX_POINTS + 49);
  });

  it("shows steps finished before a resume as finished", () => {
    const v = applyAll(emptyRun(lab), [
      { ...started, resumed: true, context: context({ finished: [["start-shop", "passed"]] }) } as LabEvent,
    ]);
    expect(v.steps[0].status).toBe("passed");
    expect(v.steps[1].status).toBe("pending");
  });

  it("tells the diagram which volume is the data volume and which the restored one", () => {
    const v = applyAll(emptyRun(lab), [
      { ...started, context: context({ restored_volume_id: "vol-restored" }) } as LabEvent,
      {
        event: "volumes",
        run_id: "run-1",
        at: at(9),
        volumes: [
          { id: "vol-0123456789abcdef0", state: "in-use", zone: "us-east-1a", size_gib: 8, snapshot_id: null, create_time: null, tags: [], attachment: { instance_id: "i-0a1b2c3d4e5f60789", device: "/dev/sdf", state: "attached", attach_time: null } },
          { id: "vol-restored", state: "available", zone: "us-east-1a", size_gib: 8, snapshot_id: "snap-1", create_time: null, tags: [], attachment: null },
        ],
      },
    ]);
    const d = diagramVolumes(v);
    expect(d.map((x) => [x.role, x.attached, x.device])).toEqual([
      ["data", true, "/dev/sdf"],
      ["restored", false, null],
    ]);
    expect(d[1].fromSnapshot).toBe("snap-1");
  });

  it("tells the diagram a pair apart: the inventory volume and both restores", () => {
    const base = context();
    const ctx = context({
      scenario: { ...base.scenario!, inventory: { volume_id: "vol-inv", device: "/dev/sdp", bytes: 1073741824 } },
      restored_volume_id: "vol-r1",
      inventory: { snapshot_id: "snap-2", restored_volume_id: "vol-r2", restored_device: "/dev/sdq" },
    });
    const vol = (id: string, device: string) => ({
      id, state: "in-use" as const, zone: "us-east-1a", size_gib: 1, snapshot_id: null, create_time: null, tags: [],
      attachment: { instance_id: "i-0a1b2c3d4e5f60789", device, state: "attached" as const, attach_time: null },
    });
    const v = applyAll(emptyRun(lab), [
      { ...started, context: ctx } as LabEvent,
      { event: "volumes", run_id: "run-1", at: at(9), volumes: [vol("vol-inv", "/dev/sdp"), vol("vol-r1", "/dev/sdg"), vol("vol-r2", "/dev/sdq")] },
    ]);
    expect(diagramVolumes(v).map((x) => [x.id, x.role, x.device])).toEqual([
      ["vol-inv", "inventory", "/dev/sdp"],
      ["vol-r1", "restored", "/dev/sdg"],
      ["vol-r2", "restored", "/dev/sdq"],
    ]);
  });

  it("holds the question asked until it is answered, then its verdict until the next step", () => {
    const v = applyAll(emptyRun(lab), [started]);
    apply(v, { event: "question_asked", run_id: "run-1", question, index: 0, total: 3, at: at(1) });
    expect(v.question?.question.id).toBe("keep-using");
    const answer = { question_id: question.id, prompt: question.prompt, right_answer: "Yes", answer: "No", correct: false, asked: true, at: at(2) };
    apply(v, { event: "question_answered", run_id: "run-1", question, answer, at: at(2) });
    expect(v.question).toBeNull();
    expect(v.feedback?.answer.answer).toBe("No");
    expect(v.answered).toHaveLength(1);
    // The same answer again (a replayed batch) is not listed twice.
    apply(v, { event: "question_answered", run_id: "run-1", question, answer, at: at(2) });
    expect(v.answered).toHaveLength(1);
    apply(v, { event: "step_started", run_id: "run-1", step_id: "create-snapshot", index: 1, title: "t", page: "p", commands: [], at: at(3) });
    expect(v.feedback).toBeNull();
  });

  it("shows nothing for a question nobody was asked", () => {
    const v = applyAll(emptyRun(lab), [started]);
    const answer = { question_id: question.id, prompt: question.prompt, right_answer: "Yes", answer: null, correct: false, asked: false, at: at(2) };
    apply(v, { event: "question_answered", run_id: "run-1", question, answer, at: at(2) });
    expect(v.answered).toEqual([]);
    expect(v.feedback).toBeNull();
  });

  it("records the run's end", () => {
    const v = applyAll(emptyRun(lab), [
      started,
      { event: "run_finished", run_id: "run-1", outcome: "passed", steps_passed: 2, steps_total: 2, at: at(20) },
    ]);
    expect(v.finished).toEqual({ outcome: "passed", stepsPassed: 2, stepsTotal: 2 });
  });
});
