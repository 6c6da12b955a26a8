import { afterEach, describe, expect, it } from "vitest";
import { cleanup, render } from "@testing-library/svelte";
import StepList from "./StepList.svelte";
import SnapshotPanel from "./SnapshotPanel.svelte";
import OrdersChart from "./OrdersChart.svelte";
import Diagram from "./Diagram.svelte";

afterEach(cleanup);

describe("StepList", () => {
  it("gives each step a test id and its status", () => {
    const { getByTestId } = render(StepList, {
      props: {
        steps: [
          { id: "a", title: "A", handsOn: false, status: "passed", checks: [] },
          { id: "b", title: "B", handsOn: true, status: "waiting", checks: [] },
        ],
        current: "b",
      },
    });
    expect(getByTestId("step-a").dataset.status).toBe("passed");
    expect(getByTestId("step-b").dataset.status).toBe("waiting");
    expect(getByTestId("step-b").getAttribute("aria-current")).toBe("step");
  });
});

describe("SnapshotPanel", () => {
  it("exposes the progress as aria-valuenow", () => {
    const { getByTestId, getByText } = render(SnapshotPanel, {
      props: { snapshot: { id: "snap-1", state: "pending", percent: 42 } },
    });
    const bar = getByTestId("snapshot-progress");
    expect(bar.getAttribute("aria-valuenow")).toBe("42");
    expect(bar.getAttribute("role")).toBe("progressbar");
    expect(getByText("pending")).toBeTruthy();
  });

  it("shows an empty bar before the snapshot exists", () => {
    const { getByTestId } = render(SnapshotPanel, { props: { snapshot: null } });
    expect(getByTestId("snapshot-progress").getAttribute("aria-valuenow")).toBe("0");
  });
});

describe("OrdersChart", () => {
  it("draws the line and marks the snapshot's start and completion", () => {
    const points = [0, 2000, 4000, 6000].map((t) => ({ t, rate: 120, paused: false }));
    const { getByTestId } = render(OrdersChart, {
      props: { points, startedT: 2000, completedT: 5000, acknowledged: 700 },
    });
    const svg = getByTestId("orders-chart");
    expect(svg.querySelector("polyline")!.getAttribute("points")!.split(" ")).toHaveLength(4);
    expect(svg.querySelector(".mark.start")).not.toBeNull();
    expect(svg.querySelector(".mark.end")).not.toBeNull();
    expect(svg.getAttribute("aria-label")).toContain("latest 120");
  });
});

describe("Diagram", () => {
  it("puts attached volumes inside the instance and detached ones outside", () => {
    const { getByTestId } = render(Diagram, {
      props: {
        instanceId: "i-1",
        zone: "us-east-1a",
        snapshotId: "snap-1",
        volumes: [
          { id: "vol-data", role: "data", attached: true, device: "/dev/sdf", state: "in-use", attachmentState: "attached", fromSnapshot: null },
          { id: "vol-new", role: "restored", attached: false, device: null, state: "available", attachmentState: null, fromSnapshot: "snap-1" },
        ],
      },
    });
    const d = getByTestId("diagram");
    expect(d.querySelector(".instance [data-volume='vol-data']")).not.toBeNull();
    expect(d.querySelector(".outside [data-volume='vol-new']")).not.toBeNull();
    expect(d.textContent).toContain("snap-1");
  });
});
