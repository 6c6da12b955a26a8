// Step pages are Markdown from labs/. Raw HTML in them is shown as text,
// never interpreted: a page cannot inject markup into the app.

import { Marked } from "marked";

const marked = new Marked({
  gfm: true,
  renderer: {
    html({ text }) {
      return escapeHtml(text);
    },
  },
});

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderMarkdown(source: string): string {
  return marked.parse(source, { async: false });
}
