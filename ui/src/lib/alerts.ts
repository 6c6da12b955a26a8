// What an alert says, from the EventBridge event SNS delivered: pure, so it is unit-tested.

import type { Delivery } from "../bindings/Delivery";

export interface AlertSummary {
  title: string;
  failed: boolean;
  cause: string | null;
  time: string;
}

export function alertSummary(d: Delivery): AlertSummary {
  let event: { "detail-type"?: string; time?: string; detail?: Record<string, unknown> } | null = null;
  try {
    event = JSON.parse(d.message);
  } catch {
    event = null;
  }
  const detail = event?.detail ?? null;
  const time = (event?.time ?? d.at).replace("T", " ").replace(/\.\d+Z$|Z$/, " UTC");
  if (!detail || typeof detail.event !== "string") {
    return { title: d.subject ?? d.message.slice(0, 80), failed: false, cause: null, time };
  }
  const snapshot = typeof detail.snapshot_id === "string" ? detail.snapshot_id.split("/").pop() : null;
  const failed = detail.result === "failed";
  const cause = typeof detail.cause === "string" && detail.cause ? detail.cause : null;
  return {
    title: `${event?.["detail-type"] ?? "Event"}: ${detail.event} ${String(detail.result)}${snapshot ? ` for ${snapshot}` : ""}`,
    failed,
    cause,
    time,
  };
}
