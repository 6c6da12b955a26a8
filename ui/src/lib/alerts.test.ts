import { describe, expect, it } from "vitest";
import { alertSummary } from "./alerts";

const delivery = (message: string) => ({
  at: "2026-11-30T16:40:13.629Z",
  topic_arn: "arn:aws:sns:us-east-1:000000000000:alerts",
  subscription_arn: "arn:aws:sns:us-east-1:000000000000:alerts:1",
  protocol: "email",
  endpoint: "ops@securecart.example",
  subject: null,
  message,
});

describe("alert summary", () => {
  it("names the event, its result, the snapshot and the cause", () => {
    const event = {
      "detail-type": "EBS Snapshot Notification",
      time: "2026-11-30T16:40:13.629Z",
      detail: { event: "createSnapshot", result: "failed", cause: "disk trouble", snapshot_id: "arn:aws:ec2::us-east-1:snapshot/snap-1" },
    };
    const s = alertSummary(delivery(JSON.stringify(event)));
    expect(s).toEqual({
      title: "EBS Snapshot Notification: createSnapshot failed for snap-1",
      failed: true,
      cause: "disk trouble",
      time: "2026-11-30 16:40:13 UTC",
    });
  });

  it("shows a plain published message as it is", () => {
    const s = alertSummary({ ...delivery("hello"), subject: "Test" });
    expect(s.title).toBe("Test");
    expect(s.failed).toBe(false);
    expect(alertSummary(delivery("{}")).title).toBe("{}");
  });
});
