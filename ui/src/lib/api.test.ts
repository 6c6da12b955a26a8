import { describe, expect, it } from "vitest";
import { errorText, failure } from "./api";

describe("failure", () => {
  it("keeps a command's { code, message } as it came", () => {
    expect(failure({ code: "unreachable", message: "cannot reach x" })).toEqual({ code: "unreachable", message: "cannot reach x" });
    expect(errorText({ code: "busy", message: "run r is still going" })).toBe("run r is still going");
  });

  it("turns anything else into an internal failure with its text", () => {
    expect(failure("plain")).toEqual({ code: "internal", message: "plain" });
    expect(failure(new Error("boom"))).toEqual({ code: "internal", message: "boom" });
    expect(failure({ other: 1 })).toEqual({ code: "internal", message: '{"other":1}' });
    expect(failure(null)).toEqual({ code: "internal", message: "null" });
  });
});
