// End-to-end tests of the real desktop app through WebKitWebDriver.
// Run under a display the size of the window (make test-gui does this):
//   xvfb-run -a -s "-screen 0 1280x860x24" node tests/gui/e2e.mjs target/debug/snaplab-app
// Prints "N passed, M failed" last; screenshots go to docs/screenshots/
// (the README's) and target/gui-e2e/ (every step, for debugging).

import { spawn, execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync, existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Session, freePort, startDriver } from "./webdriver.mjs";

const root = resolve(import.meta.dirname, "../..");
const app = resolve(process.argv[2] ?? join(root, "target/debug/snaplab-app"));
const shots = join(root, "target/gui-e2e");
const docs = join(root, "docs/screenshots");
mkdirSync(shots, { recursive: true });
mkdirSync(docs, { recursive: true });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitForFile(path, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${path} was not written`);
    await sleep(100);
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

async function setLearner(s, name) {
  const input = await s.waitFor("[data-testid=learner]");
  await s.clear(input);
  await s.type(input, name);
}

/**
 * Saves what the display shows (ImageMagick's `import`, as a person would
 * look at it). WebDriver's own screenshot is not used: WebKitGTK's snapshot
 * never answers when its DMA-BUF renderer is off, which the app does on
 * machines without a GPU. xvfb-run's screen is sized to the window.
 */
async function save(s, name, alsoDocs = false) {
  await s.settle();
  const file = join(shots, `${name}.png`);
  execFileSync("import", ["-window", "root", file], { timeout: 30000 });
  if (alsoDocs) copyFileSync(file, join(docs, `${name}.png`));
}

async function stepStatuses(s) {
  return s.exec(
    "return [...document.querySelectorAll('[data-testid^=step-]')].map(e => [e.dataset.testid, e.dataset.status]);",
  );
}

/** Presses "Run step" whenever it is enabled until the run is over; watches the progress bar. */
async function runGuided(s, { timeoutMs = 180000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  const seen = new Set();
  let midShot = false;
  let wellUnderWay = false;
  while (Date.now() < deadline) {
    const state = await s.exec(`
      const b = document.querySelector('[data-testid=run-step]');
      const p = document.querySelector('[data-testid=snapshot-progress]');
      return {
        canRun: !!b && !b.disabled,
        progress: p ? Number(p.getAttribute('aria-valuenow')) : null,
        over: !!document.querySelector('[data-testid=run-outcome]'),
      };`);
    if (state.progress !== null) seen.add(state.progress);
    // The README's picture wants a bar visibly on its way; any value
    // between 0 and 100 proves the bar moved.
    if (!midShot && state.progress > 0 && state.progress < 100) {
      await save(s, "lab-player-mid-snapshot", true);
      midShot = true;
    }
    if (!wellUnderWay && state.progress >= 30 && state.progress < 100) {
      await save(s, "lab-player-mid-snapshot", true);
      wellUnderWay = true;
    }
    if (state.over) return { seen: [...seen].sort((a, b) => a - b), midShot };
    if (state.canRun) await s.click(await s.find("[data-testid=run-step]"));
    await sleep(150);
  }
  throw new Error(`the run did not finish within ${timeoutMs / 1000} s; steps: ${JSON.stringify(await stepStatuses(s))}`);
}

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

const dataDir = mkdtempSync(join(tmpdir(), "snaplab-e2e-"));
const env = { SNAPLAB_DB: join(dataDir, "snaplab.db") };
let guidedRunId = null;

test("guided lab at demo pace: every step passes, the progress bar reaches 100, History has the run", async (s) => {
  await s.waitFor("[data-testid=lab-securecart-snapshot]");
  await save(s, "start-screen", true);
  await setLearner(s, "e2e-guided");
  await s.click(await s.find("[data-testid=lab-securecart-snapshot]"));
  await s.click(await s.find("[data-testid=start-lab]"));
  await s.waitFor("[data-testid=step-start-shop]");
  const { seen, midShot } = await runGuided(s);
  const statuses = await stepStatuses(s);
  assert(statuses.length >= 6, `expected the lab's steps, got ${JSON.stringify(statuses)}`);
  assert(statuses.every(([, st]) => st === "passed"), `not every step passed: ${JSON.stringify(statuses)}`);
  assert(seen.includes(100), `the progress bar never reached 100 (saw ${seen})`);
  assert(midShot, `the progress bar never showed the snapshot in progress (saw ${seen})`);
  const outcome = await s.text(await s.find("[data-testid=run-outcome]"));
  assert(/passed/.test(outcome), `outcome: ${outcome}`);
  await save(s, "lab-player-finished");
  const perf = await s.exec("return window.__snaplabPerf || null;");
  writeFileSync(join(shots, "perf.json"), JSON.stringify(perf));

  await s.click(await s.find("[data-testid=see-results]"));
  const summary = await s.waitFor("[data-testid=verification-summary] [data-testid=v-missing]");
  const missing = await s.text(summary);
  const after = await s.text(await s.find("[data-testid=v-after]"));
  const present = await s.text(await s.find("[data-testid=v-present]"));
  assert(missing === "0", `orders missing from the restore: ${missing}`);
  assert(after === "0", `orders from after the snapshot present: ${after}`);
  const [found, acked] = present.split("/").map((x) => Number(x.trim()));
  assert(acked > 0 && found === acked, `present ${present}`);
  await save(s, "results", true);
  guidedRunId = (await s.text(await s.find(".results-head code"))).trim();

  // Export: the save dialog is GTK's own window, out of WebDriver's reach, so
  // the test calls the command the dialog's path goes to, as the page does.
  const exported = join(dataDir, "report.html");
  await s.exec("return window.__TAURI_INTERNALS__.invoke('export_report', { runId: arguments[0], format: 'html', path: arguments[1] });", [guidedRunId, exported]);
  await waitForFile(exported);
  const html = readFileSync(exported, "utf8");
  assert(html.includes(guidedRunId) && /<html/i.test(html), "the exported HTML report does not name the run");

  await s.click(await s.find("[data-testid=nav-history]"));
  const table = await s.waitFor("[data-testid=history]", {
    ready: async (el) => (await s.text(el)).includes(guidedRunId),
  });
  const text = await s.text(table);
  assert(text.includes("e2e-guided") && text.includes("passed"), `history row: ${text}`);
  await save(s, "history", true);
  const csv = join(dataDir, "summary.csv");
  await s.exec("return window.__TAURI_INTERNALS__.invoke('export_summary', { learner: null, lab: null, path: arguments[0] });", [csv]);
  await waitForFile(csv);
  const lines = readFileSync(csv, "utf8").trim().split(/\r?\n/);
  assert(lines[0].startsWith("learner,lab,runs"), `CSV header: ${lines[0]}`);
  assert(lines.some((l) => l.startsWith("e2e-guided,securecart-snapshot,1,1,passed,")), `CSV rows: ${lines}`);
});

test("hands-on: the learner creates the snapshot with the aws CLI and the check passes", async (s) => {
  await setLearner(s, "e2e-hands-on");
  await s.click(await s.find("[data-testid=mode-hands-on]"));
  await s.click(await s.find("[data-testid=start-lab]"));
  // The app opens the shop when asked (a step it does in both modes)…
  const run = await s.waitFor("[data-testid=run-step]", { timeoutMs: 60000, ready: (el) => s.enabled(el) });
  await s.click(run);
  // …then waits for the learner to create the snapshot.
  await s.waitFor("[data-testid=check-step]", { timeoutMs: 60000, ready: (el) => s.enabled(el) });
  const commands = await s.exec("return [...document.querySelectorAll('.command pre')].map(p => p.textContent);");
  const create = commands.find((c) => c.startsWith("aws ec2 create-snapshot"));
  const terminal = commands.find((c) => c.startsWith("export AWS_ENDPOINT_URL="));
  assert(create && terminal, `commands shown: ${JSON.stringify(commands)}`);
  await save(s, "hands-on-waiting", true);
  // A check before doing anything fails, and says so.
  await s.click(await s.find("[data-testid=check-step]"));
  await s.waitFor("[data-testid=check-snapshot_created].warn", { timeoutMs: 30000 });
  execFileSync("bash", ["-c", `${terminal} && ${create}`], { stdio: ["ignore", "pipe", "pipe"], timeout: 60000 });
  await s.waitFor("[data-testid=check-step]", { timeoutMs: 30000, ready: (el) => s.enabled(el) });
  await s.click(await s.find("[data-testid=check-step]"));
  await s.waitFor("[data-testid=step-create-snapshot]", {
    timeoutMs: 30000,
    ready: async (el) => (await s.attr(el, "data-status")) === "passed",
  });
  await s.click(await s.find("[data-testid=stop-run]"));
  await s.waitFor("[data-testid=run-outcome]", { timeoutMs: 30000 });
  const outcome = await s.text(await s.find("[data-testid=run-outcome]"));
  assert(/interrupted/.test(outcome), `after Stop: ${outcome}`);

  // History offers to resume it; it picks up after the step that passed.
  await s.click(await s.find("[data-testid=nav-history]"));
  const resume = await s.waitFor("[data-testid=history] button[aria-label^='Resume']", { timeoutMs: 30000 });
  await s.click(resume);
  await s.waitFor("[data-testid=step-create-snapshot]", {
    timeoutMs: 60000,
    ready: async (el) => (await s.attr(el, "data-status")) === "passed",
  });
  // …and waits for the learner again (a step that was under way when it
  // stopped may already count as done: its checks pass on resuming).
  await s.waitFor("[data-testid=step-create-snapshot]", { ready: async () => (await s.findAll("[data-testid^=step-][data-status=waiting]")).length === 1 });
  // The snapshot panel knows the snapshot the run made before it stopped.
  const snap = await s.waitFor(".snap-line code", { timeoutMs: 30000 });
  assert((await s.text(snap)).startsWith("snap-"), "after a resume the snapshot panel shows no snapshot");
  await s.click(await s.find("[data-testid=stop-run]"));
  await s.waitFor("[data-testid=run-outcome]", { timeoutMs: 30000 });
});

async function chooseEndpoint(s, url) {
  await s.click(await s.waitFor("input[type=radio][value=endpoint]"));
  const input = await s.waitFor("[data-testid=endpoint-url]");
  await s.clear(input);
  await s.type(input, url);
  await s.click(await s.find("[data-testid=check-endpoint]"));
  return s.text(await s.waitFor("[data-testid=endpoint-status]", { timeoutMs: 30000 }));
}

test("an unreachable endpoint: the check and the start both say so, and nothing is recorded as run", async (s) => {
  const dead = `http://127.0.0.1:${await freePort()}`;
  const status = await chooseEndpoint(s, dead);
  assert(/cannot reach/.test(status), `reachability check said: ${status}`);
  await s.click(await s.find("[data-testid=start-lab]"));
  const banner = await s.waitFor("[data-testid=error]", { timeoutMs: 30000 });
  const text = await s.text(banner);
  assert(/cannot reach/.test(text) && /running/.test(text), `error banner: ${text}`);
  await save(s, "endpoint-unreachable");
  await s.click(await s.find("[data-testid=nav-history]"));
  const history = await s.text(await s.waitFor("[data-testid=history]"));
  assert(!history.includes(dead), `a run against the dead endpoint was recorded: ${history}`);
});

test("a standalone snaplab emulator endpoint: detected by the check, the lab runs straight through", async (s) => {
  const port = await freePort();
  const emulator = spawn(join(root, "target/debug/snaplab"), ["emulator", "--bind", `127.0.0.1:${port}`, "--pace", "instant"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    await new Promise((res, rej) => {
      emulator.stdout.on("data", (d) => String(d).includes("http://") && res());
      emulator.on("exit", (code) => rej(new Error(`the emulator exited (${code})`)));
    });
    const status = await chooseEndpoint(s, `http://127.0.0.1:${port}`);
    assert(/snaplab emulator answers/.test(status), `reachability check said: ${status}`);
    await setLearner(s, "e2e-endpoint");
    const stepByStep = await s.find("input[type=checkbox]:not([data-testid=large-type])");
    await s.click(stepByStep);
    await s.click(await s.find("[data-testid=start-lab]"));
    await s.waitFor("[data-testid=run-outcome]", { timeoutMs: 120000 });
    const statuses = await stepStatuses(s);
    assert(statuses.every(([, st]) => st === "passed"), `not every step passed: ${JSON.stringify(statuses)}`);
    await s.click(await s.find("[data-testid=see-results]"));
    const missing = await s.text(await s.waitFor("[data-testid=v-missing]"));
    assert(missing === "0", `orders missing: ${missing}`);
    // The window in the dark theme and large type, as on a projector.
    await s.click(await s.find("[data-testid=large-type]"));
    await s.click(await s.find("button[aria-label^='Switch to dark']"));
    await save(s, "results-dark-large", true);
  } finally {
    emulator.kill("SIGTERM");
  }
});

let closedRunId = null;

test("closing the window mid-run: the run is kept as interrupted", async (s) => {
  await setLearner(s, "e2e-closed");
  await s.click(await s.find("[data-testid=start-lab]"));
  const run = await s.waitFor("[data-testid=run-step]", { timeoutMs: 60000, ready: (el) => s.enabled(el) });
  await s.click(run);
  await s.waitFor("[data-testid=step-start-shop]", {
    timeoutMs: 60000,
    ready: async (el) => (await s.attr(el, "data-status")) === "passed",
  });
  const meta = await s.text(await s.find(".run-meta"));
  closedRunId = meta.match(/run-[0-9a-f-]+/)?.[0];
  assert(closedRunId, `no run id in ${meta}`);
  // The next test opens the app again and looks for it.
});

test("…and the next time the app opens, History offers to resume it", async (s) => {
  assert(closedRunId, "the previous test did not start a run");
  await s.click(await s.waitFor("[data-testid=nav-history]"));
  const row = await s.waitFor(`[data-testid=history] tr[data-run='${closedRunId}']`, { timeoutMs: 30000 });
  const text = await s.text(row);
  assert(/interrupted/.test(text), `the closed run's row: ${text}`);
  assert((await s.findAll(`[data-testid=history] tr[data-run='${closedRunId}'] button[aria-label^='Resume']`)).length === 1, "no Resume button");
});

let passed = 0;
let failed = 0;
const { driver, base, log } = await startDriver(env);
try {
  for (const t of tests) {
    let s;
    const t0 = Date.now();
    try {
      s = await Session.create(base, app);
      await t.fn(s);
      passed++;
      console.log(`PASS ${t.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${t.name}: ${e.message}`);
      if (s) await save(s, `failure-${tests.indexOf(t)}`).catch(() => {});
    } finally {
      if (s) await s.close();
    }
  }
} finally {
  driver.kill();
  if (failed && log()) console.log(`WebKitWebDriver said:\n${log().slice(-2000)}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
