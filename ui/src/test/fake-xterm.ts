// xterm.js stands in for the unit tests: jsdom has no layout or canvas to
// draw a terminal with. It keeps what the panel did to it; the real
// terminal is driven by the GUI tests (tests/gui/e2e.mjs).

type Listener = (data: string) => void;

export class Terminal {
  static instances: Terminal[] = [];
  options: Record<string, unknown>;
  cols = 80;
  rows = 16;
  written: string[] = [];
  focused = 0;
  disposed = false;
  opened: HTMLElement | null = null;
  private listeners: Listener[] = [];

  constructor(options: Record<string, unknown> = {}) {
    this.options = { ...options };
    Terminal.instances.push(this);
  }
  open(el: HTMLElement) {
    this.opened = el;
  }
  loadAddon(addon: { activate?: (t: Terminal) => void }) {
    addon.activate?.(this);
  }
  write(data: string) {
    this.written.push(data);
  }
  /** As xterm does: pasted text reaches onData (wrapped when bracketed paste is on). */
  paste(text: string) {
    for (const l of this.listeners) l(text);
  }
  /** What the keyboard would send. */
  type(data: string) {
    for (const l of this.listeners) l(data);
  }
  onData(listener: Listener) {
    this.listeners.push(listener);
    return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
  }
  focus() {
    this.focused += 1;
  }
  reset() {
    this.written = [];
  }
  dispose() {
    this.disposed = true;
  }
}
