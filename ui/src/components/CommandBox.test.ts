import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import CommandBox from "./CommandBox.svelte";

const command = "aws ec2 create-snapshot --volume-id vol-0123456789abcdef0";

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("CommandBox: what it shows", () => {
  it("shows the command under its label, with a Copy button named after it", () => {
    render(CommandBox, { props: { text: command, label: "aws CLI command" } });
    expect(screen.getByLabelText("aws CLI command").textContent).toBe(command);
    const button = screen.getByRole("button", { name: "Copy aws CLI command" });
    expect(button.textContent?.trim()).toBe("Copy");
  });

  it("names each box's button after its own label", () => {
    render(CommandBox, { props: { text: "export AWS_ENDPOINT_URL=http://127.0.0.1:4566", label: "terminal set-up" } });
    expect(screen.getByLabelText("terminal set-up").textContent).toBe("export AWS_ENDPOINT_URL=http://127.0.0.1:4566");
    expect(screen.getByRole("button", { name: "Copy terminal set-up" })).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Copy aws CLI command" })).toBeNull();
  });
});

describe("CommandBox: copying", () => {
  // user-event puts a clipboard stub on navigator; it keeps what was written.
  let user: ReturnType<typeof userEvent.setup>;
  beforeEach(() => {
    user = userEvent.setup();
  });

  it("puts the command on the clipboard and says Copied", async () => {
    render(CommandBox, { props: { text: command, label: "aws CLI command" } });
    const button = screen.getByRole("button", { name: "Copy aws CLI command" });
    await user.click(button);
    expect(await navigator.clipboard.readText()).toBe(command);
    expect(button.textContent?.trim()).toBe("Copied");
  });

  it("copies the text it is given now, not the text it first had", async () => {
    const { rerender } = render(CommandBox, { props: { text: "aws first", label: "aws CLI command" } });
    await rerender({ text: "aws second", label: "aws CLI command" });
    await user.click(screen.getByRole("button", { name: "Copy aws CLI command" }));
    expect(await navigator.clipboard.readText()).toBe("aws second");
  });

  it("falls back to a selection copy when the clipboard refuses", async () => {
    vi.spyOn(navigator.clipboard, "writeText").mockRejectedValue(new DOMException("denied", "NotAllowedError"));
    let copiedValue: string | null = null;
    // jsdom has no execCommand: stand in for WebKit's, copying the selected text of the textarea.
    const execCommand = vi.fn((name: string) => {
      const area = document.querySelector("textarea");
      copiedValue = name === "copy" && area ? area.value.slice(area.selectionStart, area.selectionEnd) : null;
      return true;
    });
    Object.defineProperty(document, "execCommand", { value: execCommand, configurable: true });
    try {
      render(CommandBox, { props: { text: command, label: "aws CLI command" } });
      const button = screen.getByRole("button", { name: "Copy aws CLI command" });
      await user.click(button);
      expect(execCommand).toHaveBeenCalledWith("copy");
      expect(copiedValue).toBe(command);
      expect(document.querySelector("textarea")).toBeNull(); // the helper is removed
      expect(button.textContent?.trim()).toBe("Copied");
    } finally {
      delete (document as { execCommand?: unknown }).execCommand;
    }
  });
});

describe("CommandBox: Copied goes back to Copy", () => {
  it("after a second and a half", async () => {
    vi.useFakeTimers();
    const writeText = vi.fn(async (_: string) => {});
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    render(CommandBox, { props: { text: command, label: "aws CLI command" } });
    const button = screen.getByRole("button", { name: "Copy aws CLI command" });
    await fireEvent.click(button);
    await vi.advanceTimersByTimeAsync(0);
    expect(writeText).toHaveBeenCalledWith(command);
    expect(button.textContent?.trim()).toBe("Copied");
    await vi.advanceTimersByTimeAsync(1400);
    expect(button.textContent?.trim()).toBe("Copied");
    await vi.advanceTimersByTimeAsync(200);
    expect(button.textContent?.trim()).toBe("Copy");
  });
});

describe("CommandBox: keyboard", () => {
  it("reaches the Copy button with Tab and copies with Enter, then with Space", async () => {
    const user = userEvent.setup();
    render(CommandBox, { props: { text: command, label: "aws CLI command" } });
    const button = screen.getByRole("button", { name: "Copy aws CLI command" });
    await user.tab();
    expect(document.activeElement).toBe(button);

    await user.keyboard("{Enter}");
    expect(await navigator.clipboard.readText()).toBe(command);
    expect(button.textContent?.trim()).toBe("Copied");

    await navigator.clipboard.writeText("something else");
    await user.keyboard(" ");
    expect(await navigator.clipboard.readText()).toBe(command);
  });
});

describe("CommandBox: Run in terminal", () => {
  it("appears only with a terminal to type into, and hands it the command", async () => {
    const onrun = vi.fn();
    render(CommandBox, { props: { text: command, label: "aws CLI command", onrun } });
    await userEvent.setup().click(screen.getByRole("button", { name: "Run in terminal: aws CLI command" }));
    expect(onrun).toHaveBeenCalledWith(command);
    // Copy stays beside it.
    expect(screen.getByRole("button", { name: "Copy aws CLI command" })).toBeTruthy();
  });

  it("is not offered without a terminal", () => {
    render(CommandBox, { props: { text: command, label: "aws CLI command" } });
    expect(screen.queryByTestId("run-in-terminal")).toBeNull();
  });
});
