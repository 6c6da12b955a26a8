import { afterEach, describe, expect, it } from "vitest";
import { cleanup, render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import ApiLog from "./ApiLog.svelte";
import { apiCall } from "./fixtures";
import { at } from "../lib/fixtures";

afterEach(cleanup);

/** The table's body rows, as arrays of cell texts. */
function rows(): string[][] {
  const body = screen.getByTestId("api-log").querySelector("tbody")!;
  return [...body.querySelectorAll("tr")].map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent!.trim()));
}

describe("ApiLog", () => {
  it("shows no rows and a count of 0 before any call", () => {
    render(ApiLog, { props: { calls: [] } });
    expect(screen.getByRole("heading", { name: /API calls/ }).textContent).toContain("(0)");
    expect(rows()).toEqual([]);
  });

  it("lists calls newest first, with duration and request id", () => {
    render(ApiLog, {
      props: {
        calls: [
          apiCall({ at: at(1), operation: "DescribeInstances", durationMs: 4, requestId: "req-a" }),
          apiCall({ at: at(2), operation: "CreateSnapshot", durationMs: 31, requestId: "req-b" }),
        ],
      },
    });
    expect(screen.getByRole("heading", { name: /API calls/ }).textContent).toContain("(2)");
    expect(rows()).toEqual([
      ["CreateSnapshot", "31", "req-b", ""],
      ["DescribeInstances", "4", "req-a", ""],
    ]);
    for (const tr of screen.getByTestId("api-log").querySelectorAll("tbody tr")) {
      expect(tr.classList.contains("error")).toBe(false);
    }
  });

  it("marks a failed call's row and shows its error; a call without request id shows a dash", () => {
    render(ApiLog, {
      props: {
        calls: [
          apiCall({ at: at(1), operation: "CreateVolume", requestId: "req-ok" }),
          apiCall({ at: at(2), operation: "AttachVolume", requestId: null, error: "InvalidVolume.ZoneMismatch: the volume is in us-east-1b" }),
        ],
      },
    });
    const [failed, ok] = [...screen.getByTestId("api-log").querySelectorAll("tbody tr")];
    expect(failed.classList.contains("error")).toBe(true);
    expect(ok.classList.contains("error")).toBe(false);
    expect(within(failed as HTMLElement).getByText("InvalidVolume.ZoneMismatch: the volume is in us-east-1b")).toBeTruthy();
    expect(rows()[0]).toEqual(["AttachVolume", "12", "—", "InvalidVolume.ZoneMismatch: the volume is in us-east-1b"]);
  });

  it("shows the latest 60 calls but counts them all", () => {
    const calls = Array.from({ length: 75 }, (_, i) => apiCall({ at: at(i), operation: `Op${i}` }));
    render(ApiLog, { props: { calls } });
    expect(screen.getByRole("heading", { name: /API calls/ }).textContent).toContain("(75)");
    const shown = rows();
    expect(shown).toHaveLength(60);
    expect(shown[0][0]).toBe("Op74");
    expect(shown[59][0]).toBe("Op15");
  });

  it("follows new calls as they arrive", async () => {
    const { rerender } = render(ApiLog, { props: { calls: [apiCall({ operation: "CreateSnapshot" })] } });
    await rerender({ calls: [apiCall({ operation: "CreateSnapshot" }), apiCall({ at: at(5), operation: "DescribeSnapshots" })] });
    expect(rows().map((r) => r[0])).toEqual(["DescribeSnapshots", "CreateSnapshot"]);
  });

  it("puts its scrolling table in a named region that Tab reaches", async () => {
    const user = userEvent.setup();
    render(ApiLog, { props: { calls: [apiCall()] } });
    // The panel is a region too (a section named by its heading); the scrolling one holds the table.
    const region = screen.getAllByRole("region", { name: /API calls/ }).find((r) => r.tabIndex === 0)!;
    expect(region.contains(screen.getByTestId("api-log"))).toBe(true);
    await user.tab();
    expect(document.activeElement).toBe(region);
  });
});
