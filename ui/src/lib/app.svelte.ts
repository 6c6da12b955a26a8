// The window's state: which screen, the labs, the run being played.

import type { AppInfo } from "../bindings/AppInfo";
import type { LabDef } from "../bindings/LabDef";
import { type RunView } from "./runview";

export type Screen = "start" | "lab" | "results" | "history" | "class";

export const ui = $state({
  screen: "start" as Screen,
  info: null as AppInfo | null,
  labs: [] as LabDef[],
  /** The lab being played, and its run (null before the first start). */
  lab: null as LabDef | null,
  run: null as RunView | null,
  /** The run whose results are shown. */
  resultsRunId: null as string | null,
  /** A problem to show where the learner is looking, with what to do. */
  error: null as string | null,
  /** Why the last start failed because of the endpoint (shown beside its field). */
  endpointProblem: null as string | null,
  /** Runs on AWS whose record says they left resources (found at start; History cleans them up). */
  awsLeftBehind: [] as string[],
  largeType: false,
  theme: (typeof matchMedia === "function" && matchMedia("(prefers-color-scheme: dark)").matches
    ? "dark"
    : "light") as "light" | "dark",
});
