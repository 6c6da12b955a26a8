import { describe, expect, it } from "vitest";
import { runsOn } from "./labs";

describe("runsOn", () => {
  it("says nothing for a lab that runs everywhere", () => {
    expect(runsOn({ targets: ["embedded", "snaplab", "localstack", "moto", "other_endpoint", "aws"] })).toBeNull();
  });

  it("names the targets a lab is limited to", () => {
    expect(runsOn({ targets: ["embedded", "snaplab", "aws"] })).toBe("the built-in emulator, a snaplab emulator, AWS");
  });
});
