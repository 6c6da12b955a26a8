// The fit addon beside the fake terminal: fitting gives the size the test set.
import type { Terminal } from "./fake-xterm";

export class FitAddon {
  static next: { cols: number; rows: number } | null = null;
  private term: Terminal | null = null;
  activate(term: Terminal) {
    this.term = term;
  }
  fit() {
    if (this.term && FitAddon.next) {
      this.term.cols = FitAddon.next.cols;
      this.term.rows = FitAddon.next.rows;
    }
  }
  dispose() {}
}
