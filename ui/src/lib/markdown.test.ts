import { describe, expect, it } from "vitest";
import { renderMarkdown } from "./markdown";

describe("step pages", () => {
  it("render Markdown", () => {
    const html = renderMarkdown("# Title\n\nSome `code` and **bold**.");
    expect(html).toContain("<h1");
    expect(html).toContain("<code>code</code>");
    expect(html).toContain("<strong>bold</strong>");
  });

  it("show raw HTML as text instead of running it", () => {
    const html = renderMarkdown('<img src=x onerror="alert(1)">\n\n<script>alert(1)</script>');
    expect(html).not.toContain("<img");
    expect(html).not.toContain("<script");
    expect(html).toContain("&#60;script&#62;");
  });
});
