// What a lab card says about where the lab runs.
import type { LabDef } from "../bindings/LabDef";
import type { TargetKind } from "../bindings/TargetKind";

const LABELS: Record<TargetKind, string> = {
  embedded: "the built-in emulator",
  snaplab: "a snaplab emulator",
  localstack: "LocalStack",
  moto: "moto",
  other_endpoint: "other EC2 endpoints",
  aws: "AWS",
};

/** The targets a lab is limited to, in words; null when it runs everywhere. */
export function runsOn(lab: Pick<LabDef, "targets">): string | null {
  const all = Object.keys(LABELS) as TargetKind[];
  if (all.every((k) => lab.targets.includes(k))) return null;
  return lab.targets.map((k) => LABELS[k]).join(", ");
}
