// A minimal W3C WebDriver client over fetch (Node 20): enough to drive the
// real app through WebKitWebDriver.

import { spawn } from "node:child_process";
import net from "node:net";

export const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A WebDriver command that failed: `error` is the W3C error code ("no such element", "invalid session id", …). */
export class WebDriverError extends Error {
  constructor(what, error, message) {
    super(`${what}: ${error}: ${message}`);
    this.name = "WebDriverError";
    this.error = error;
  }
}

/**
 * The errors that mean "the element is not there (yet)" while waiting: none
 * matches, or the one just found left the page before `ready` read it (the
 * page re-rendered it). Anything else — a dead session, a broken script —
 * is a real failure and ends the wait at once.
 */
const NOT_THERE_YET = new Set(["no such element", "stale element reference"]);

export class Session {
  constructor(base, id) {
    this.base = base;
    this.id = id;
  }

  static async create(base, binary, { timeoutMs = 60000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    let lastError;
    while (Date.now() < deadline) {
      try {
        const res = await fetch(`${base}/session`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            capabilities: { alwaysMatch: { "webkitgtk:browserOptions": { binary, args: [] } } },
          }),
        });
        const body = await res.json();
        if (res.ok) return new Session(base, body.value.sessionId);
        lastError = JSON.stringify(body.value);
      } catch (e) {
        lastError = String(e);
      }
      await sleep(250);
    }
    throw new Error(`cannot open a WebDriver session: ${lastError}`);
  }

  async cmd(method, path, body) {
    const res = await fetch(`${this.base}/session/${this.id}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60000),
    });
    const json = await res.json();
    if (!res.ok) throw new WebDriverError(`${method} ${path}`, json.value?.error, json.value?.message);
    return json.value;
  }

  async find(css) {
    const v = await this.cmd("POST", "/element", { using: "css selector", value: css });
    return v[ELEMENT];
  }

  async findAll(css) {
    const v = await this.cmd("POST", "/elements", { using: "css selector", value: css });
    return v.map((e) => e[ELEMENT]);
  }

  /**
   * Waits until `css` matches an element (and `ready(el)` holds, if given).
   * Only "no such element" (or a stale one) and `ready` being false mean
   * "not yet"; any other error is thrown at once, not turned into a timeout.
   */
  async waitFor(css, { timeoutMs = 30000, ready } = {}) {
    const deadline = Date.now() + timeoutMs;
    let last = "no element matched";
    for (;;) {
      try {
        const el = await this.find(css);
        if (!ready || (await ready(el))) return el;
        last = "an element matched but was not ready";
      } catch (e) {
        if (!(e instanceof WebDriverError && NOT_THERE_YET.has(e.error))) throw e;
        last = e.error;
      }
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${css} (${last})`);
      await sleep(100);
    }
  }

  click(el) {
    return this.cmd("POST", `/element/${el}/click`, {});
  }
  clear(el) {
    return this.cmd("POST", `/element/${el}/clear`, {});
  }
  type(el, text) {
    return this.cmd("POST", `/element/${el}/value`, { text });
  }
  /**
   * Presses keys on whatever has the keyboard (W3C actions), one key down
   * and up per character, as a person types; "\uE007" is Enter.
   */
  async keys(text) {
    const actions = [];
    for (const ch of text) actions.push({ type: "keyDown", value: ch }, { type: "keyUp", value: ch });
    await this.cmd("POST", "/actions", { actions: [{ type: "key", id: "keyboard", actions }] });
    await this.cmd("DELETE", "/actions");
  }
  attr(el, name) {
    return this.cmd("GET", `/element/${el}/attribute/${name}`);
  }
  text(el) {
    return this.cmd("GET", `/element/${el}/text`);
  }
  enabled(el) {
    return this.cmd("GET", `/element/${el}/enabled`);
  }
  exec(script, args = []) {
    return this.cmd("POST", "/execute/sync", { script, args });
  }

  /** Resolves after two animation frames: what is on screen is then current. */
  settle() {
    return this.cmd("POST", "/execute/async", {
      script: "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done()));",
      args: [],
    });
  }

  /** Closes the window as its close button would (W3C Close Window); the app then ends on its own. */
  async closeWindow() {
    await this.cmd("DELETE", "/window").catch(() => {});
  }

  async close() {
    await fetch(`${this.base}/session/${this.id}`, { method: "DELETE" }).catch(() => {});
  }
}

/** A port nothing listens on now. */
export function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
    s.on("error", rej);
  });
}

/** Starts WebKitWebDriver (with `env` for the app it launches) and waits until it answers. */
export async function startDriver(env) {
  const port = await freePort();
  const driver = spawn("WebKitWebDriver", [`--port=${port}`], {
    env: { ...process.env, ...env, TAURI_WEBVIEW_AUTOMATION: "true" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  driver.stderr.on("data", (d) => (log += d));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`${base}/status`);
      if (r.ok) return { driver, base, log: () => log };
    } catch {
      /* starting */
    }
    await sleep(100);
  }
  driver.kill();
  throw new Error(`WebKitWebDriver did not start: ${log}`);
}
