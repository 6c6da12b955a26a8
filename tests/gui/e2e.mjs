// End-to-end tests of the real desktop app through WebKitWebDriver.
// Run under a display the size of the window (make test-gui does this):
//   xvfb-run -a -s "-screen 0 1280x860x24" node tests/gui/e2e.mjs target/debug/snaplab-app
// Prints "N passed, M failed" last. Screenshots go to target/gui-e2e/ (every
// step, for debugging); with SNAPLAB_REFRESH_SCREENSHOTS=1 (make screenshots)
// the README's are also copied into docs/screenshots/.

import { spawn, execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync, existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Session, freePort, startDriver } from "./webdriver.mjs";

const root = resolve(import.meta.dirname, "../..");
const app = resolve(process.argv[2] ?? join(root, "target/debug/snaplab-app"));
const shots = join(root, "target/gui-e2e");
const docs = join(root, "docs/screenshots");
const refreshDocs = process.env.SNAPLAB_REFRESH_SCREENSHOTS === "1";
mkdirSync(shots, { recursive: true });
if (refreshDocs) mkdirSync(docs, { recursive: true });
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
 * look at it) to target/gui-e2e/. WebDriver's own screenshot is not used:
 * WebKitGTK's snapshot never answers when its DMA-BUF renderer is off, which
 * the app does on machines without a GPU. xvfb-run's screen is sized to the
 * window. `forReadme`: one of the README's pictures, copied into
 * docs/screenshots/ only when refreshing them on purpose (make screenshots).
 */
async function save(s, name, forReadme = false) {
  await s.settle();
  const file = join(shots, `${name}.png`);
  execFileSync("import", ["-window", "root", file], { timeout: 30000 });
  if (forReadme && refreshDocs) copyFileSync(file, join(docs, `${name}.png`));
}

/** The lab's steps, in order (labs/securecart-snapshot/lab.toml). */
const LAB_STEPS = [
  "start-shop",
  "create-snapshot",
  "keep-writing",
  "detach-while-pending",
  "monitor",
  "restore",
  "attach",
  "verify",
  "cleanup",
];

/** The incremental lab's steps, in order (labs/incremental/lab.toml). */
const INCREMENTAL_STEPS = [
  "start-shop",
  "first-snapshot",
  "first-completed",
  "more-orders",
  "second-snapshot",
  "second-completed",
  "changed-blocks",
  "delete-first",
  "restore",
  "attach",
  "verify",
  "cleanup",
];

/** Asserts the player lists exactly the lab's steps, each in `status`. */
function assertAllSteps(statuses, status, steps = LAB_STEPS) {
  const ids = statuses.map(([id]) => id);
  const expected = steps.map((id) => `step-${id}`);
  assert(
    ids.length === expected.length && ids.every((id, i) => id === expected[i]),
    `expected the lab's ${expected.length} steps ${JSON.stringify(expected)}, got ${JSON.stringify(ids)}`,
  );
  assert(statuses.every(([, st]) => st === status), `not every step ${status}: ${JSON.stringify(statuses)}`);
}

/** Waits for the run's end and returns its outcome ("passed" | "failed" | "interrupted") and banner text. */
async function runOutcome(s, timeoutMs = 30000) {
  const el = await s.waitFor("[data-testid=run-outcome]", { timeoutMs });
  return { outcome: await s.attr(el, "data-outcome"), text: await s.text(el) };
}

/** Opens History and waits until its table shows a finished load (not the empty table before it). */
async function openHistory(s) {
  await s.click(await s.waitFor("[data-testid=nav-history]"));
  return s.waitFor("[data-testid=history][data-loaded=true]", { timeoutMs: 30000 });
}

/** History's rows as { id, learner, target, outcome, steps, cleanUp }. */
function historyRows(s) {
  return s.exec(`
    return [...document.querySelectorAll('[data-testid=history] tr[data-run]')].map((tr) => ({
      id: tr.dataset.run,
      learner: tr.cells[1].textContent.trim(),
      target: tr.cells[3].textContent.trim(),
      outcome: tr.querySelector('.badge')?.textContent.trim() ?? null,
      steps: tr.cells[7].textContent.trim(),
      quiz: tr.cells[8].textContent.trim(),
      cleanUp: !!tr.querySelector('[data-testid^=clean-up-]'),
    }));`);
}

/** The id of the run the player shows. */
async function playerRunId(s) {
  const meta = await s.text(await s.find(".run-meta"));
  const id = meta.match(/run-[0-9a-f-]+/)?.[0];
  assert(id, `no run id in ${meta}`);
  return id;
}

async function stepStatuses(s) {
  return s.exec(
    "return [...document.querySelectorAll('[data-testid^=step-]')].map(e => [e.dataset.testid, e.dataset.status]);",
  );
}

/** Presses "Run step" whenever it is enabled until the run is over; watches the progress bar. */
/**
 * Answers the knowledge check on screen, if any: `pick(prompt, choices)` gives
 * the choice's index (the first by default). Waits until the card has gone
 * or shows the next question, so one card is never answered twice.
 * Returns the prompt answered, or null.
 */
async function answerIfAsked(s, pick = () => 0, { shot = null } = {}) {
  const card = () =>
    s.exec(`
      const c = document.querySelector('[data-testid=question-card]');
      return c ? { prompt: c.querySelector('[data-testid=question-prompt]').textContent.trim(),
                   choices: [...c.querySelectorAll('label.choice')].map(l => l.textContent.trim()) } : null;`);
  const q = await card();
  if (!q) return null;
  await s.click(await s.find(`[data-testid=choice-${pick(q.prompt, q.choices)}]`));
  if (shot) await save(s, shot, true);
  await s.click(await s.find("[data-testid=answer-question]"));
  const deadline = Date.now() + 15000;
  while ((await card())?.prompt === q.prompt) {
    if (Date.now() > deadline) throw new Error(`the answer to "${q.prompt}" was not taken`);
    await sleep(100);
  }
  return q.prompt;
}

async function runGuided(s, { timeoutMs = 180000, shots = false, pick = undefined } = {}) {
  const deadline = Date.now() + timeoutMs;
  const seen = new Set();
  const answered = [];
  let midShot = false;
  let wellUnderWay = false;
  while (Date.now() < deadline) {
    const prompt = await answerIfAsked(s, pick, { shot: shots && !answered.length ? "question-card" : null });
    if (prompt) {
      answered.push(prompt);
      continue;
    }
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
    // Only the main lab's run takes the README's picture of the player.
    if (shots && !midShot && state.progress > 0 && state.progress < 100) {
      await save(s, "lab-player-mid-snapshot", true);
      midShot = true;
    }
    if (shots && !wellUnderWay && state.progress >= 30 && state.progress < 100) {
      await save(s, "lab-player-mid-snapshot", true);
      wellUnderWay = true;
    }
    if (state.over) return { seen: [...seen].sort((a, b) => a - b), midShot, answered };
    if (state.canRun) await s.click(await s.find("[data-testid=run-step]"));
    await sleep(150);
  }
  throw new Error(`the run did not finish within ${timeoutMs / 1000} s; steps: ${JSON.stringify(await stepStatuses(s))}`);
}

const tests = [];
/** A test; `group` names the driver (and so the app's environment) it runs under. */
const test = (name, fn, group = "default") => tests.push({ name, fn, group });

const dataDir = mkdtempSync(join(tmpdir(), "snaplab-e2e-"));
// The terminal's bash keeps its history here, not in the account running the tests.
const env = { SNAPLAB_DB: join(dataDir, "snaplab.db"), HISTFILE: join(dataDir, "bash_history") };
let guidedRunId = null;

test("guided lab at demo pace: every step passes, the progress bar reaches 100, History has the run", async (s) => {
  await s.waitFor("[data-testid=lab-securecart-snapshot]");
  await save(s, "start-screen", true);
  await setLearner(s, "e2e-guided");
  await s.click(await s.find("[data-testid=lab-securecart-snapshot]"));
  await s.click(await s.find("[data-testid=start-lab]"));
  await s.waitFor("[data-testid=step-start-shop]");
  // The scenario's wrong row, answered right; every other question, the first choice.
  const pick = (prompt, choices) => (/detach or attach/.test(prompt) ? choices.indexOf("False") : 0);
  const { seen, midShot, answered } = await runGuided(s, { shots: true, pick });
  assert(answered.length === 6, `knowledge checks answered: ${JSON.stringify(answered)}`);
  assertAllSteps(await stepStatuses(s), "passed");
  assert(seen.includes(100), `the progress bar never reached 100 (saw ${seen})`);
  assert(midShot, `the progress bar never showed the snapshot in progress (saw ${seen})`);
  const { outcome, text } = await runOutcome(s);
  assert(outcome === "passed", `outcome ${outcome}: ${text}`);
  const n = LAB_STEPS.length;
  assert(text.includes(`${n} of ${n} steps passed`), `outcome banner: ${text}`);
  const feedback = await s.text(await s.find("[data-testid=answer-feedback]"));
  assert(/Source: /.test(feedback), `the last answer's feedback: ${feedback}`);
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
  const score = await s.text(await s.find("[data-testid=quiz-score]"));
  const right = Number(score.split(" of ")[0]);
  assert(/^\d of 6 right$/.test(score) && right >= 1 && right < 6, `right and wrong answers scored: ${score}`);
  await save(s, "results", true);
  guidedRunId = (await s.text(await s.find(".results-head code"))).trim();

  // Export: the save dialog is GTK's own window, out of WebDriver's reach, so
  // the test calls the command the dialog's path goes to, as the page does.
  const exported = join(dataDir, "report.html");
  await s.exec("return window.__TAURI_INTERNALS__.invoke('export_report', { runId: arguments[0], format: 'html', path: arguments[1] });", [guidedRunId, exported]);
  await waitForFile(exported);
  const html = readFileSync(exported, "utf8");
  assert(html.includes(guidedRunId) && /<html/i.test(html), "the exported HTML report does not name the run");

  await openHistory(s);
  const row = (await historyRows(s)).find((r) => r.id === guidedRunId);
  assert(
    row && row.learner === "e2e-guided" && row.outcome === "passed" && row.steps === `${n}/${n}` && row.quiz === `${right}/6`,
    `history row of ${guidedRunId}: ${JSON.stringify(row)}`,
  );
  await save(s, "history", true);
  const csv = join(dataDir, "summary.csv");
  await s.exec("return window.__TAURI_INTERNALS__.invoke('export_summary', { learner: null, lab: null, path: arguments[0] });", [csv]);
  await waitForFile(csv);
  const lines = readFileSync(csv, "utf8").trim().split(/\r?\n/);
  assert(lines[0].startsWith("learner,lab,runs"), `CSV header: ${lines[0]}`);
  assert(lines.some((l) => l.startsWith("e2e-guided,securecart-snapshot,1,1,passed,")), `CSV rows: ${lines}`);
});

test("incremental lab: two snapshots, the block map shows what changed, the second restores in full", async (s) => {
  await s.waitFor("[data-testid=lab-incremental]");
  await setLearner(s, "e2e-incremental");
  await s.click(await s.find("[data-testid=lab-incremental]"));
  await s.click(await s.find("[data-testid=start-lab]"));
  await s.waitFor("[data-testid=step-changed-blocks]");
  await runGuided(s);
  assertAllSteps(await stepStatuses(s), "passed", INCREMENTAL_STEPS);
  const { outcome, text } = await runOutcome(s);
  assert(outcome === "passed", `outcome ${outcome}: ${text}`);
  assert(text.includes("12 of 12 steps passed"), `outcome banner: ${text}`);

  await s.click(await s.find("[data-testid=see-results]"));
  const changed = await s.text(await s.waitFor("[data-testid=block-map] [data-testid=blocks-changed]"));
  const [n, held] = changed.split("/").map((x) => Number(x.trim()));
  assert(n > 0 && n < held, `some blocks changed, not all: ${changed}`);
  const cells = await s.exec("return document.querySelectorAll('[data-testid=block-map] .block-grid .cell').length;");
  assert(cells >= held, `one square per block written at least: ${cells} for ${held}`);
  assert((await s.text(await s.find("[data-testid=v-missing]"))) === "0", "the second snapshot restores in full");
  await save(s, "results-incremental", true);
});

test("crash- vs application-consistent lab: one order torn and replayed, none in the other, side by side", async (s) => {
  await s.waitFor("[data-testid=lab-crash-vs-app-consistent]");
  await setLearner(s, "e2e-consistency");
  await s.click(await s.find("[data-testid=lab-crash-vs-app-consistent]"));
  await s.click(await s.find("[data-testid=start-lab]"));
  await s.waitFor("[data-testid=step-crash-verify]");
  await runGuided(s);
  const { outcome, text } = await runOutcome(s);
  assert(outcome === "passed", `outcome ${outcome}: ${text}`);
  assert(text.includes("13 of 13 steps passed"), `outcome banner: ${text}`);

  await s.click(await s.find("[data-testid=see-results]"));
  await s.waitFor("[data-testid=side-by-side]");
  const cells = (id) => s.exec(`return [...document.querySelectorAll('[data-testid=${id}] td')].map(td => td.textContent.trim());`);
  const torn = await cells("sbs-torn");
  assert(JSON.stringify(torn) === JSON.stringify(["1", "0"]), `torn per restore: ${torn}`);
  const pause = await cells("sbs-pause");
  assert(pause[0].includes("held half-written") && pause[1].includes("writes paused"), `the cost of consistency: ${pause}`);
  await save(s, "results-side-by-side", true);
});

test("multi-volume lab: the pair snapshotted apart sells stock for missing orders, the set agrees", async (s) => {
  await s.waitFor("[data-testid=lab-multi-volume]");
  await setLearner(s, "e2e-multi-volume");
  await s.click(await s.find("[data-testid=lab-multi-volume]"));
  await s.click(await s.find("[data-testid=start-lab]"));
  await s.waitFor("[data-testid=step-snapshot-set]");
  await runGuided(s);
  const { outcome, text } = await runOutcome(s);
  assert(outcome === "passed", `outcome ${outcome}: ${text}`);
  assert(text.includes("13 of 13 steps passed"), `outcome banner: ${text}`);

  await s.click(await s.find("[data-testid=see-results]"));
  await s.waitFor("[data-testid=side-by-side]");
  const phantom = await s.exec("return [...document.querySelectorAll('[data-testid=sbs-phantom] td')].map(td => td.textContent.trim());");
  assert(phantom.length === 2 && Number(phantom[0]) > 0 && phantom[1] === "0", `stock changes without their order: ${phantom}`);
  await save(s, "results-multi-volume", true);
});

test("restore-initialization lab: the first read waits, the second does not, a Fast Snapshot Restore restore is fast at once", async (s) => {
  await s.waitFor("[data-testid=lab-restore-initialization]");
  await setLearner(s, "e2e-restore-initialization");
  await s.click(await s.find("[data-testid=lab-restore-initialization]"));
  await s.click(await s.find("[data-testid=start-lab]"));
  await s.waitFor("[data-testid=step-fast-read]");
  await runGuided(s);
  const { outcome, text } = await runOutcome(s);
  assert(outcome === "passed", `outcome ${outcome}: ${text}`);
  assert(text.includes("16 of 16 steps passed"), `outcome banner: ${text}`);

  await s.click(await s.find("[data-testid=see-results]"));
  await s.waitFor("[data-testid=read-chart]");
  const medians = await s.exec("return [0, 1, 2, 3].map(i => parseFloat(document.querySelector(`[data-testid=read-median-${i}]`).textContent));");
  // Demo pace: a first read costs 16 ms per 512 KiB block, at most 32 MiB/s.
  assert(medians[0] <= 33, `the first read is slow: ${medians}`);
  const labels = await s.exec("return [...document.querySelectorAll('[data-testid=read-chart] .figure span')].map(e => e.textContent);");
  assert(/^first read · [1-9]\d* blocks fetched/.test(labels[0]), `the first read fetched blocks: ${labels}`);
  assert(labels[1] === "second read · 0 blocks fetched from the snapshot", `the second read fetched none: ${labels}`);
  assert(labels[3] === "first read, Fast Snapshot Restore · 0 blocks fetched from the snapshot", `FSR: ${labels}`);
  const lines = await s.exec("return document.querySelectorAll('[data-testid=read-chart] polyline').length;");
  assert(lines === 4, `one line per read: ${lines}`);
  assert(!(await s.exec("return !!document.querySelector('[data-testid=verification-summary]');")), "no empty verification panel");
  await save(s, "results-restore-initialization", true);
});

test("snapshot-alerts lab: a completed snapshot raises no alert, the failed one lands in the inbox", async (s) => {
  await s.waitFor("[data-testid=lab-snapshot-alerts]");
  await setLearner(s, "e2e-snapshot-alerts");
  await s.click(await s.find("[data-testid=lab-snapshot-alerts]"));
  await s.click(await s.find("[data-testid=start-lab]"));
  await s.waitFor("[data-testid=step-alert]");
  const { answered } = await runGuided(s);
  assert(answered.length >= 4, `knowledge checks answered: ${JSON.stringify(answered)}`);
  const { outcome, text } = await runOutcome(s);
  assert(outcome === "passed", `outcome ${outcome}: ${text}`);
  assert(text.includes("10 of 10 steps passed"), `outcome banner: ${text}`);
  const alerts = await s.exec("return [...document.querySelectorAll('[data-testid=inbox-alert]')].map(a => a.textContent);");
  assert(alerts.length === 1 && /createSnapshot failed for snap-/.test(alerts[0]), `the inbox: ${JSON.stringify(alerts)}`);
  await save(s, "lab-player-inbox", true);
  await s.click(await s.find("[data-testid=see-results]"));
  await s.waitFor("[data-testid=inbox]");
  assert(!(await s.exec("return !!document.querySelector('[data-testid=verification-summary]');")), "no empty verification panel");
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
  // A check before doing anything fails, and says why.
  const volume = create.match(/--volume-id (vol-\S+)/)?.[1];
  assert(volume, `no volume in the command shown: ${create}`);
  await s.click(await s.find("[data-testid=check-step]"));
  const warn = await s.text(await s.waitFor("[data-testid=check-snapshot_created].warn", { timeoutMs: 30000 }));
  assert(
    warn.includes(`No snapshot of ${volume} was created since this step began`),
    `the failed check said: ${warn}`,
  );
  execFileSync("bash", ["-c", `${terminal} && ${create}`], { stdio: ["ignore", "pipe", "pipe"], timeout: 60000 });
  await s.waitFor("[data-testid=check-step]", { timeoutMs: 30000, ready: (el) => s.enabled(el) });
  await s.click(await s.find("[data-testid=check-step]"));
  await s.waitFor("[data-testid=step-create-snapshot]", {
    timeoutMs: 30000,
    ready: async (el) => (await s.attr(el, "data-status")) === "passed",
  });
  await s.click(await s.find("[data-testid=stop-run]"));
  const stopped = await runOutcome(s);
  assert(stopped.outcome === "interrupted", `after Stop: ${stopped.outcome}: ${stopped.text}`);

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
  // (A step that counts as done may be followed by its knowledge check: answered here.)
  await s.waitFor("[data-testid=step-create-snapshot]", {
    ready: async () => {
      await answerIfAsked(s);
      return (await s.findAll("[data-testid^=step-][data-status=waiting]")).length === 1;
    },
  });
  // The snapshot panel knows the snapshot the run made before it stopped.
  const snap = await s.waitFor(".snap-line code", { timeoutMs: 30000 });
  assert((await s.text(snap)).startsWith("snap-"), "after a resume the snapshot panel shows no snapshot");
  await s.click(await s.find("[data-testid=stop-run]"));
  const again = await runOutcome(s);
  assert(again.outcome === "interrupted", `after the second Stop: ${again.outcome}: ${again.text}`);
});

/** What the app's terminal shows, row by row (xterm.js's DOM renderer). */
function terminalText(s) {
  return s.exec("return [...document.querySelectorAll('[data-testid=terminal] .xterm-rows > div')].map(r => r.textContent).join('\\n');");
}

/** How many commands the terminal panel says it recorded. */
async function recordedCount(s) {
  const note = await s.text(await s.find("[data-testid=terminal-recording]"));
  return Number(note.match(/^(\d+) commands? recorded/)?.[1] ?? 0);
}

/** Presses Enter in the terminal, waits until the shell reports the command done, and returns its exit status. */
async function enterInTerminal(s, timeoutMs = 120000) {
  const before = await recordedCount(s);
  await s.keys("\uE007");
  const deadline = Date.now() + timeoutMs;
  while ((await recordedCount(s)) <= before) {
    if (Date.now() > deadline) throw new Error(`the command never finished; the terminal shows:\n${await terminalText(s)}`);
    await sleep(150);
  }
  const note = await s.text(await s.find("[data-testid=terminal-recording]"));
  return Number(note.match(/the last exited (\d+)/)?.[1]);
}

test("hands-on in the app's terminal: the shown commands typed there pass, a wrong one fails its check, the record keeps them", async (s) => {
  await setLearner(s, "e2e-terminal");
  await s.click(await s.find("[data-testid=mode-hands-on]"));
  await choose(s, "[data-testid=pace]", "demo");
  await s.click(await s.find("[data-testid=start-lab]"));
  await s.waitFor("[data-testid=terminal][data-status=open]", { timeoutMs: 60000 });
  // The app opens the shop (a step it does in both modes)…
  await s.click(await s.waitFor("[data-testid=run-step]", { timeoutMs: 60000, ready: (el) => s.enabled(el) }));
  await s.waitFor("[data-testid=check-step]", { timeoutMs: 60000, ready: (el) => s.enabled(el) });

  // A wrong command, typed key by key at the prompt: it fails, and so does the check.
  await s.click(await s.find("[data-testid=terminal] .xterm-screen"));
  const wrong = "aws ec2 create-snapshot --volume-id vol-0000000000000dead";
  await s.keys(wrong);
  const wrongExit = await enterInTerminal(s);
  assert(wrongExit !== 0, "the wrong command exited 0");
  assert((await terminalText(s)).includes("InvalidVolume.NotFound"), `the terminal shows:\n${await terminalText(s)}`);
  await s.click(await s.find("[data-testid=check-step]"));
  const warn = await s.text(await s.waitFor("[data-testid=check-snapshot_created].warn", { timeoutMs: 30000 }));
  assert(warn.includes("was created since this step began"), `the failed check said: ${warn}`);
  const typed = [{ command: wrong, exit: wrongExit }];

  // The terminal fits its panel and tells the shell: Large type means fewer, bigger columns.
  // (A refit reaches the shell as SIGWINCH, after the panel has redrawn: on a loaded machine
  // the first `stty size` may still see the old size — or, rarely, WebDriver's keys arrive out
  // of order ("stty siez", exit 1) — so it is asked again, up to three times. The record keeps
  // whatever the shell ran: a garbled line is expected there as "stty…" with its exit status.)
  const sttySize = async () => {
    let rows, cols, shown;
    for (let attempt = 0; attempt < 3; attempt++) {
      await s.click(await s.find("[data-testid=terminal] .xterm-screen"));
      await s.keys("stty size");
      const exit = await enterInTerminal(s);
      typed.push({ command: exit === 0 ? "stty size" : "stty", exit });
      if (exit !== 0) continue;
      const sizes = (await terminalText(s)).split("\n").map((l) => l.trim()).filter((l) => /^\d+ \d+$/.test(l));
      [rows, cols] = sizes.at(-1).split(" ").map(Number);
      shown = await s.exec("return document.querySelectorAll('[data-testid=terminal] .xterm-rows > div').length;");
      if (rows === shown) break;
      await sleep(500);
    }
    assert(rows === shown, `the shell has ${rows} rows, the panel shows ${shown}`);
    return cols;
  };
  const cols = await sttySize();
  await s.click(await s.find("[data-testid=large-type]"));
  await sleep(500);
  const largeCols = await sttySize();
  assert(largeCols < cols, `Large type: ${largeCols} columns, before ${cols}`);
  await s.click(await s.find("[data-testid=large-type]"));
  // …and follows the theme.
  const text = () => s.exec("return getComputedStyle(document.querySelector('[data-testid=terminal] .xterm-rows')).color;");
  const light = await text();
  await s.click(await s.find("button[aria-label='Switch to dark theme']"));
  await sleep(300);
  const dark = await text();
  assert(light === "rgb(21, 32, 43)" && dark === "rgb(230, 237, 243)", `the terminal's text: light ${light}, dark ${dark}`);
  await s.click(await s.find("button[aria-label='Switch to light theme']"));

  // The shell is the run's: a look at History and back finds the same one, its output replayed.
  const shellPid = async () => {
    await s.click(await s.find("[data-testid=terminal] .xterm-screen"));
    await s.keys("echo shell-$$");
    typed.push({ command: "echo shell-$$", exit: await enterInTerminal(s) });
    return [...(await terminalText(s)).matchAll(/^shell-(\d+)\s*$/gm)].map((m) => m[1]);
  };
  const [pid] = await shellPid();
  assert(pid, `no pid echoed:\n${await terminalText(s)}`);
  await s.click(await s.find("[data-testid=nav-history]"));
  await s.waitFor("[data-testid=history]");
  await s.click(await s.find("[data-testid=nav-lab]"));
  await s.waitFor("[data-testid=terminal][data-status=open]", { timeoutMs: 30000 });
  await s.waitFor("[data-testid=terminal] .xterm-rows", {
    ready: async () => (await terminalText(s)).includes(`shell-${pid}`),
  });
  const pids = await shellPid();
  assert(pids.length >= 2 && pids.every((p) => p === pid), `the shell's pid before and after: ${JSON.stringify(pids)}`);

  // Then each step as shown: Run in terminal types the command, the learner presses Enter, then Check.
  let shot = false;
  const deadline = Date.now() + 480000;
  for (;;) {
    if (Date.now() > deadline) throw new Error("the run did not finish within 8 minutes");
    if (await answerIfAsked(s)) continue;
    const finished = await s.findAll("[data-testid=run-outcome]");
    if (finished.length) break;
    const [run] = await s.findAll("[data-testid=run-step]:not([disabled])");
    if (run) {
      await s.click(run);
      await sleep(200);
      continue;
    }
    const [check] = await s.findAll("[data-testid=check-step]:not([disabled])");
    if (!check) {
      await sleep(200);
      continue;
    }
    const buttons = await s.findAll("[data-testid=run-in-terminal]");
    const commands = await s.exec("return [...document.querySelectorAll('.command pre[aria-label=\"aws CLI command\"]')].map(p => p.textContent);");
    for (const [i, b] of buttons.entries()) {
      // A command the cloud refuses for now (a volume still creating) is run again shortly, as its error says.
      for (let attempt = 1; ; attempt++) {
        await s.click(b);
        const exit = await enterInTerminal(s);
        typed.push({ command: commands[i], exit });
        if (exit === 0) break;
        assert(attempt < 15, `${commands[i]} kept failing:\n${await terminalText(s)}`);
        await sleep(2000);
      }
      if (!shot && commands[i].startsWith("aws ec2 create-snapshot")) {
        await save(s, "hands-on-terminal", true);
        shot = true;
      }
    }
    const step = await s.exec("return document.querySelector('[data-testid^=step-][data-status=waiting]')?.dataset.testid ?? null;");
    await s.click(check);
    // A check that says to check again in a moment (a volume still attaching) is pressed again, as a learner would.
    const until = Date.now() + 120000;
    while ((await s.attr(await s.find(`[data-testid=${step}]`), "data-status")) !== "passed") {
      const warns = await s.exec("return [...document.querySelectorAll('.check.warn')].map(p => p.textContent.trim());");
      if (Date.now() > until) throw new Error(`${step} did not pass after the shown commands: ${JSON.stringify(warns)}`);
      const [again] = await s.findAll("[data-testid=check-step]:not([disabled])");
      if (again && warns.length && warns.every((w) => w.includes("again"))) {
        await sleep(1000);
        await s.click(again);
      }
      await sleep(300);
    }
  }
  const outcome = await runOutcome(s);
  assert(outcome.outcome === "passed", `the run ended ${outcome.outcome}: ${outcome.text}`);
  await s.waitFor("[data-testid=terminal][data-status=ended]", { timeoutMs: 15000 });
  const closed = await s.text(await s.find("[data-testid=terminal-message]"));
  assert(closed.includes("The run is over"), `the terminal after the run: ${closed}`);

  // The record holds each command typed, under its step, with its exit status.
  await s.click(await s.find("[data-testid=see-results]"));
  await s.waitFor("[data-testid=typed-create-snapshot]", { timeoutMs: 30000 });
  const rows = await s.exec(
    "return [...document.querySelectorAll('[data-testid^=typed-] li')].map(li => ({ step: li.closest('[data-testid^=typed-]').dataset.testid, text: li.textContent.replace(/\\s+/g, ' ').trim() }));",
  );
  assert(rows.length === typed.length, `recorded ${rows.length} commands, typed ${typed.length}: ${JSON.stringify(rows)}`);
  assert(rows[0].step === "typed-create-snapshot", `the wrong command's record: ${JSON.stringify(rows[0])}`);
  for (const [i, r] of rows.entries()) {
    const want = typed[i];
    assert(r.text.includes(`$ ${want.command}`) && r.text.includes(`exit ${want.exit}`), `record ${i}: ${JSON.stringify(r)}, typed ${JSON.stringify(want)}`);
  }
  assert(new Set(rows.map((r) => r.step)).size >= 5, `commands under only ${JSON.stringify([...new Set(rows.map((r) => r.step))])}`);
  await s.exec("document.querySelector('[data-testid=typed-create-snapshot]').closest('li').scrollIntoView({ block: 'start' });");
  await save(s, "results-typed-commands", true);
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
  assert(status.includes(`cannot reach ${dead}`), `reachability check said: ${status}`);
  await setLearner(s, "e2e-unreachable");
  await s.click(await s.find("[data-testid=start-lab]"));
  // The start's failure is shown beside the endpoint field, not in the banner.
  const problem = await s.text(await s.waitFor("[data-testid=endpoint-problem]", { timeoutMs: 30000 }));
  assert(problem.includes(`cannot reach ${dead}`) && problem.includes("Is it running?"), `endpoint problem: ${problem}`);
  assert((await s.attr(await s.find("[data-testid=endpoint-url]"), "aria-invalid")) === "true", "the endpoint field is not marked invalid");
  const banners = await s.findAll("[data-testid=error]");
  assert(banners.length === 0, `an error banner as well: ${banners.length ? await s.text(banners[0]) : ""}`);
  await save(s, "endpoint-unreachable");
  await openHistory(s);
  const rows = await historyRows(s);
  const recorded = rows.filter((r) => r.learner === "e2e-unreachable" || r.target.includes(dead));
  assert(recorded.length === 0, `a run against the dead endpoint was recorded: ${JSON.stringify(recorded)}`);
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
    // Straight through: only the knowledge checks wait for the learner.
    const end = Date.now() + 120000;
    while (!(await s.findAll("[data-testid=run-outcome]")).length && Date.now() < end) {
      if (!(await answerIfAsked(s))) await sleep(200);
    }
    const { outcome, text } = await runOutcome(s, 1000);
    assert(outcome === "passed", `outcome ${outcome}: ${text}`);
    assertAllSteps(await stepStatuses(s), "passed");
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

/** Starts `snaplab emulator` on a free port: { process, endpoint }. */
async function standaloneEmulator(pace) {
  const port = await freePort();
  const emulator = spawn(join(root, "target/debug/snaplab"), ["emulator", "--bind", `127.0.0.1:${port}`, "--pace", pace], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  await new Promise((res, rej) => {
    emulator.stdout.on("data", (d) => String(d).includes("http://") && res());
    emulator.on("exit", (code) => rej(new Error(`the emulator exited (${code})`)));
  });
  return { process: emulator, endpoint: `http://127.0.0.1:${port}` };
}

/**
 * A learner's `snaplab run` on `endpoint` into the app's record (or `record`: a class
 * database, with the learner's own file beside the app's): the process, its JSON events as they come.
 */
function learnerRun(endpoint, learner, args, record = { SNAPLAB_DB: env.SNAPLAB_DB }) {
  const child = spawn(join(root, "target/debug/snaplab"), ["run", "--endpoint", endpoint, "--learner", learner, "--json", ...args], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, ...record },
  });
  const events = [];
  let buffered = "";
  child.stdout.on("data", (d) => {
    buffered += String(d);
    const lines = buffered.split("\n");
    buffered = lines.pop();
    for (const l of lines) if (l.trim()) events.push(JSON.parse(l));
  });
  const until = async (what, pred, timeoutMs = 60000) => {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const e = events.find(pred);
      if (e) return e;
      await sleep(100);
    }
    throw new Error(`${learner}'s run: no ${what} in ${JSON.stringify(events.map((e) => e.event))}`);
  };
  const exited = new Promise((res) => child.on("exit", res));
  return { child, events, until, exited };
}

/** The board's rows as { learner, state, step, note }. */
function boardRows(s) {
  return s.exec(`
    return [...document.querySelectorAll('[data-testid=board] tr[data-learner]')].map((tr) => ({
      learner: tr.dataset.learner,
      state: tr.dataset.state,
      step: tr.cells[2].textContent.trim(),
      note: tr.cells[6].textContent.trim(),
    }));`);
}

test("the class board: learners on one emulator, each in a world of their own, seen live — who waits, who is stuck, who finished", async (s) => {
  const emulator = await standaloneEmulator("demo");
  const runs = [];
  try {
    // Ada finishes a guided run; Grace's hands-on run waits for her; Alan presses Enter without doing the step.
    const ada = learnerRun(emulator.endpoint, "ada", ["--pace", "demo"]);
    runs.push(ada);
    const grace = learnerRun(emulator.endpoint, "grace", ["--mode", "hands-on"]);
    const alan = learnerRun(emulator.endpoint, "alan", ["--mode", "hands-on"]);
    runs.push(grace, alan);
    await grace.until("prompt", (e) => e.event === "awaiting_learner");
    await alan.until("prompt", (e) => e.event === "awaiting_learner");
    alan.child.stdin.write("\n");
    await alan.until("failed check", (e) => e.event === "check_result" && !e.passed);
    // Each signs with a key of their own: three SecureCarts on one emulator.
    const keys = new Set(
      [ada, grace, alan].map((r) => r.events.find((e) => e.event === "run_started")?.context?.target?.access_key),
    );
    assert(keys.size === 3 && !keys.has("test"), `access keys: ${[...keys]}`);

    await s.click(await s.waitFor("[data-testid=nav-class]"));
    await s.waitFor("[data-testid=board][data-loaded=true]", { timeoutMs: 30000 });
    const end = Date.now() + 120000;
    let rows = [];
    const state = (name) => rows.find((r) => r.learner === name)?.state;
    while (Date.now() < end) {
      rows = await boardRows(s);
      if (state("ada") === "passed" && state("grace") === "waiting" && state("alan") === "stuck") break;
      await sleep(500);
    }
    assert(state("ada") === "passed", `ada: ${JSON.stringify(rows)}`);
    assert(state("grace") === "waiting", `grace: ${JSON.stringify(rows)}`);
    const stuck = rows.find((r) => r.learner === "alan");
    assert(stuck?.state === "stuck" && /No snapshot of vol-/.test(stuck.note), `alan: ${JSON.stringify(stuck)}`);
    assert(/^2\/9 /.test(stuck.step), `alan's step: ${stuck.step}`);
    // Who needs a look comes first.
    assert(rows[0].learner === "alan", `first row: ${rows[0].learner}`);
    const counts = await s.text(await s.find("[data-testid=board-counts]"));
    assert(/1 waiting/.test(counts) && /1 failed check/.test(counts), `counts: ${counts}`);
    await save(s, "class-board", true);

    // Grace quits: the board says so within a poll.
    grace.child.stdin.write("q\n");
    await grace.exited;
    const quitEnd = Date.now() + 30000;
    while (state("grace") !== "interrupted" && Date.now() < quitEnd) {
      await sleep(500);
      rows = await boardRows(s);
    }
    assert(state("grace") === "interrupted", `grace after quitting: ${JSON.stringify(rows)}`);
  } finally {
    for (const r of runs) r.child.kill("SIGTERM");
    emulator.process.kill("SIGTERM");
  }
});

/** The class database of the "class" group: the PostgreSQL server `make test-gui` starts. */
function classDatabase() {
  const url = process.env.SNAPLAB_TEST_POSTGRES;
  if (!url) throw new Error("SNAPLAB_TEST_POSTGRES is not set: run the GUI tests beside a PostgreSQL server (scripts/with-postgres.sh, as make test-gui does)");
  return url;
}

test("a class database on PostgreSQL: each learner's run records into their own file and reaches the board the moment it writes", async (s) => {
  const emulator = await standaloneEmulator("demo");
  const record = (learner) => ({ SNAPLAB_DB: classDatabase(), SNAPLAB_LOCAL_DB: join(dataDir, `${learner}.db`) });
  const runs = [];
  try {
    await s.click(await s.waitFor("[data-testid=nav-class]"));
    await s.waitFor("[data-testid=board][data-loaded=true]", { timeoutMs: 30000 });
    const hopper = learnerRun(emulator.endpoint, "hopper", ["--mode", "hands-on"], record("hopper"));
    const lovelace = learnerRun(emulator.endpoint, "lovelace", ["--pace", "instant"], record("lovelace"));
    runs.push(hopper, lovelace);
    await hopper.until("prompt", (e) => e.event === "awaiting_learner");
    await lovelace.exited;
    // Told by the class database, not found by polling: the board says it is live.
    await s.waitFor("[data-testid=board-live][data-live=true]", { timeoutMs: 30000 });
    const end = Date.now() + 60000;
    let rows = [];
    const state = (name) => rows.find((r) => r.learner === name)?.state;
    while (Date.now() < end) {
      rows = await boardRows(s);
      if (state("lovelace") === "passed" && state("hopper") === "waiting") break;
      await sleep(300);
    }
    assert(state("lovelace") === "passed" && state("hopper") === "waiting", `board: ${JSON.stringify(rows)}`);
    // Hopper presses Enter without doing the step: the failed check is on the board.
    hopper.child.stdin.write("\n");
    await hopper.until("failed check", (e) => e.event === "check_result" && !e.passed);
    const stuckEnd = Date.now() + 30000;
    while (state("hopper") !== "stuck" && Date.now() < stuckEnd) {
      await sleep(200);
      rows = await boardRows(s);
    }
    assert(state("hopper") === "stuck", `hopper: ${JSON.stringify(rows)}`);
    const live = await s.text(await s.find("[data-testid=board-live]"));
    assert(/^Live/.test(live), `the board's note: ${live}`);
    await save(s, "class-board-postgres", true);
    const footer = await s.text(await s.find("footer"));
    assert(/sent to the class database postgres:\/\/snaplab@/.test(footer), `footer: ${footer}`);
    // A classmate's run, opened from the board: read from the class database (the app's own file has no such run).
    await s.click(await s.find("[data-testid=board] tr[data-learner=lovelace] button"));
    const missing = await s.waitFor("[data-testid=verification-summary] [data-testid=v-missing]", { timeoutMs: 30000 });
    assert((await s.text(missing)) === "0", "lovelace's restore misses orders");
  } finally {
    for (const r of runs) r.child.kill("SIGTERM");
    emulator.process.kill("SIGTERM");
  }
}, "class");

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
  closedRunId = await playerRunId(s);
  // The next test opens the app again and looks for it.
});

test("…and the next time the app opens, History offers to resume it", async (s) => {
  assert(closedRunId, "the previous test did not start a run");
  await openHistory(s);
  const row = (await historyRows(s)).find((r) => r.id === closedRunId);
  assert(row?.outcome === "interrupted", `the closed run's row: ${JSON.stringify(row)}`);
  assert((await s.findAll(`[data-testid=history] tr[data-run='${closedRunId}'] button[aria-label^='Resume']`)).length === 1, "no Resume button");
});

test("History's Clean up deletes what an interrupted run left, says so, and the button goes", async (s) => {
  await setLearner(s, "e2e-cleanup");
  await s.click(await s.find("[data-testid=start-lab]"));
  // Guided, step by step: open the shop, create the snapshot, then stop.
  for (const step of ["start-shop", "create-snapshot"]) {
    await s.click(await s.waitFor("[data-testid=run-step]", { timeoutMs: 60000, ready: (el) => s.enabled(el) }));
    await s.waitFor(`[data-testid=step-${step}]`, {
      timeoutMs: 60000,
      ready: async (el) => (await s.attr(el, "data-status")) === "passed",
    });
  }
  const runId = await playerRunId(s);
  const snapshot = (await s.text(await s.waitFor(".snap-line code", { timeoutMs: 30000 }))).trim();
  assert(snapshot.startsWith("snap-"), `the snapshot panel shows ${snapshot}`);
  await s.click(await s.find("[data-testid=stop-run]"));
  const stopped = await runOutcome(s);
  assert(stopped.outcome === "interrupted", `after Stop: ${stopped.outcome}: ${stopped.text}`);

  await openHistory(s);
  const before = (await historyRows(s)).find((r) => r.id === runId);
  assert(before?.outcome === "interrupted" && before.cleanUp, `the stopped run's row: ${JSON.stringify(before)}`);
  await s.click(await s.find(`[data-testid=clean-up-${runId}]`));
  const cleaned = await s.text(await s.waitFor("[data-testid=cleaned]", { timeoutMs: 60000 }));
  assert(cleaned === `Deleted the one resource run ${runId} left behind.`, `Clean up said: ${cleaned}`);
  // The list loads again: the run is still there, with nothing left to clean up.
  await s.waitFor("[data-testid=history][data-loaded=true]", { timeoutMs: 30000 });
  const after = (await historyRows(s)).find((r) => r.id === runId);
  assert(after && !after.cleanUp, `after Clean up the row still offers it: ${JSON.stringify(after)}`);
  assert((await s.findAll(`[data-testid=clean-up-${runId}]`)).length === 0, "the Clean up button is still there");
  // The record agrees: the snapshot it made is marked deleted.
  const report = await s.exec("return window.__TAURI_INTERNALS__.invoke('run_report', { runId: arguments[0] });", [runId]);
  const resources = report.resources;
  assert(
    resources.length === 1 && resources[0].resource_id === snapshot && resources[0].deleted_at,
    `the run's resources after Clean up: ${JSON.stringify(resources)}`,
  );
  await save(s, "history-cleaned");
});


// Real AWS, on snaplab's emulator acting as AWS (the same stand-in as
// tests/aws_run.rs): the app's environment sends every AWS call to it
// (AWS_ENDPOINT_URL), its profiles come from a config file of the test's
// own, and SNAPLAB_FORBID_REAL_AWS refuses any call that would reach AWS.
/** The profile's key: to the stand-in, an account of its own, where the tests look too. */
const STAND_IN_KEY = "AKIDE2ETEST000000001";

const standIn = { emulator: null, endpoint: null, sandbox: join(dataDir, "stand-in") };
const AWS_PROFILE_NAME = "e2e-lab";

async function startStandIn() {
  const port = await freePort();
  mkdirSync(standIn.sandbox, { recursive: true });
  const emulator = spawn(
    join(root, "target/debug/snaplab"),
    ["emulator", "--bind", `127.0.0.1:${port}`, "--pace", "instant", "--run-commands", standIn.sandbox],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  await new Promise((res, rej) => {
    emulator.stdout.on("data", (d) => String(d).includes("http://") && res());
    emulator.on("exit", (code) => rej(new Error(`the stand-in emulator exited (${code})`)));
  });
  standIn.emulator = emulator;
  standIn.endpoint = `http://127.0.0.1:${port}`;
  const config = join(dataDir, "aws-config");
  const credentials = join(dataDir, "aws-credentials");
  writeFileSync(config, `[profile ${AWS_PROFILE_NAME}]\nregion = us-east-1\n`);
  writeFileSync(credentials, `[${AWS_PROFILE_NAME}]\naws_access_key_id = ${STAND_IN_KEY}\naws_secret_access_key = e2e-secret-never-recorded\n`);
  return {
    AWS_ENDPOINT_URL: standIn.endpoint,
    AWS_CONFIG_FILE: config,
    AWS_SHARED_CREDENTIALS_FILE: credentials,
    SNAPLAB_FORBID_REAL_AWS: "1",
    NO_PROXY: "127.0.0.1",
  };
}

/** The aws CLI against the stand-in; its JSON answer. */
function awsCli(args) {
  const out = execFileSync("aws", ["--endpoint-url", standIn.endpoint, "--region", "us-east-1", "--output", "json", ...args], {
    env: { ...process.env, AWS_ACCESS_KEY_ID: STAND_IN_KEY, AWS_SECRET_ACCESS_KEY: "test" },
    timeout: 60000,
  });
  return JSON.parse(String(out) || "null");
}

/** Instances not terminated, volumes and snapshots carrying the snaplab run tag. */
function taggedIds() {
  const tag = "Name=tag-key,Values=snaplab:run";
  const instances = awsCli(["ec2", "describe-instances", "--filters", tag, "Name=instance-state-name,Values=pending,running,stopping,stopped", "--query", "Reservations[].Instances[].InstanceId"]);
  const volumes = awsCli(["ec2", "describe-volumes", "--filters", tag, "--query", "Volumes[].VolumeId"]);
  const snapshots = awsCli(["ec2", "describe-snapshots", "--owner-ids", "self", "--filters", tag, "--query", "Snapshots[].SnapshotId"]);
  return [...instances, ...volumes, ...snapshots];
}

/** Sets a <select> as a person choosing an option would (WebDriver cannot open the native list). */
async function choose(s, selector, value) {
  await s.waitFor(selector);
  await s.exec(
    "const el = document.querySelector(arguments[0]); el.value = arguments[1]; el.dispatchEvent(new Event('change', { bubbles: true }));",
    [selector, value],
  );
}

test(
  "real AWS (the stand-in): profile picked, preflight all allowed, consent, the whole lab passes and leaves nothing",
  async (s) => {
    await setLearner(s, "e2e-aws");
    await s.click(await s.waitFor("[data-testid=target-aws]"));
    await s.waitFor(`[data-testid=aws-profile] option[value='${AWS_PROFILE_NAME}']`, { timeoutMs: 30000 });
    await choose(s, "[data-testid=aws-profile]", AWS_PROFILE_NAME);
    const start = await s.find("[data-testid=start-lab]");
    assert(!(await s.enabled(start)), "Start on AWS is enabled before any preflight");
    await s.click(await s.find("[data-testid=run-preflight]"));
    const panel = await s.waitFor("[data-testid=preflight]", { timeoutMs: 60000 });
    const checks = await s.exec(
      "return [...document.querySelectorAll('[data-testid=preflight-checks] tr[data-action]')].map(r => [r.dataset.action, r.dataset.allowed]);",
    );
    assert(checks.length >= 10 && checks.every(([, a]) => a === "ok"), `preflight checks: ${JSON.stringify(checks)}`);
    assert((await s.attr(panel, "data-ready")) === "true", "the preflight is not ready");
    // The stand-in's account for the profile's key (12 digits derived from it), as STS says.
    const account = awsCli(["sts", "get-caller-identity"]).Account;
    assert(/^\d{12}$/.test(account) && account !== "000000000000", `the stand-in's account: ${account}`);
    assert((await s.text(await s.find("[data-testid=preflight-account]"))) === account, "the account shown");
    const note = await s.text(await s.find("[data-testid=preflight-endpoint]"));
    assert(note.includes(standIn.endpoint) && note.includes("not to AWS"), `the endpoint note: ${note}`);
    await save(s, "aws-preflight", true);

    await s.click(await s.find("[data-testid=start-lab]"));
    const consent = await s.text(await s.waitFor("[data-testid=consent-text]"));
    assert(consent.includes(`snaplab will create, in AWS account ${account}`), `consent: ${consent}`);
    assert(consent.includes(`Calls go to ${standIn.endpoint}`), `consent: ${consent}`);
    await save(s, "aws-consent", true);
    await s.click(await s.find("[data-testid=consent-confirm]"));

    // Guided, step by step: the first step launches the instance and waits for SSM.
    const deadline = Date.now() + 240000;
    let provisioningShot = false;
    while (!(await s.findAll("[data-testid=run-outcome]")).length) {
      if (Date.now() > deadline) throw new Error(`the run on AWS did not finish; steps: ${JSON.stringify(await stepStatuses(s))}`);
      const state = await s.exec(`
        const b = document.querySelector('[data-testid=run-step]');
        return {
          canRun: !!b && !b.disabled,
          notices: [...document.querySelectorAll('.notice')].map(n => n.textContent),
        };`);
      if (!provisioningShot && state.notices.some((n) => /SSM|instance/i.test(n))) {
        await save(s, "aws-provisioning", true);
        provisioningShot = true;
      }
      if (await answerIfAsked(s)) continue;
      if (state.canRun) await s.click(await s.find("[data-testid=run-step]"));
      await sleep(200);
    }
    const { outcome, text } = await runOutcome(s);
    assert(outcome === "passed", `outcome ${outcome}: ${text}`);
    assertAllSteps(await stepStatuses(s), "passed");
    assert(provisioningShot, "no notice told the instance's progress");
    const runId = await playerRunId(s);
    await s.click(await s.find("[data-testid=see-results]"));
    const missing = await s.text(await s.waitFor("[data-testid=v-missing]", { timeoutMs: 30000 }));
    assert(missing === "0", `orders missing from the restore: ${missing}`);
    await save(s, "aws-results");

    const left = taggedIds();
    assert(left.length === 0, `tagged resources left in the stand-in: ${JSON.stringify(left)}`);
    await openHistory(s);
    const row = (await historyRows(s)).find((r) => r.id === runId);
    assert(row && row.outcome === "passed" && !row.cleanUp, `History row: ${JSON.stringify(row)}`);
    assert(/AWS/.test(row.target), `History's target: ${row.target}`);
    // Nothing secret reached the record.
    const report = await s.exec("return window.__TAURI_INTERNALS__.invoke('run_report', { runId: arguments[0] });", [runId]);
    assert(!JSON.stringify(report).includes("e2e-secret-never-recorded"), "the secret key is in the run's report");
  },
  "aws",
);

/** Real AWS chosen with the test's profile, a preflight, and consent: the run starts. */
async function startOnAws(s, learner) {
  await setLearner(s, learner);
  await s.click(await s.waitFor("[data-testid=target-aws]"));
  await s.waitFor(`[data-testid=aws-profile] option[value='${AWS_PROFILE_NAME}']`, { timeoutMs: 30000 });
  await choose(s, "[data-testid=aws-profile]", AWS_PROFILE_NAME);
  await s.click(await s.find("[data-testid=run-preflight]"));
  await s.waitFor("[data-testid=preflight][data-ready=true]", { timeoutMs: 60000 });
  await s.click(await s.find("[data-testid=start-lab]"));
  await s.click(await s.waitFor("[data-testid=consent-confirm]"));
}

/** Waits until the stand-in holds nothing with the snaplab run tag. */
async function untilNothingTagged(what, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  while (taggedIds().length) {
    if (Date.now() > deadline) throw new Error(`left ${what}: ${JSON.stringify(taggedIds())}`);
    await sleep(500);
  }
}

/** Starts a run on AWS and waits until its server and data volume are up. */
async function runOnAwsUnderWay(s, learner) {
  await startOnAws(s, learner);
  await s.click(await s.waitFor("[data-testid=run-step]", { timeoutMs: 60000, ready: (el) => s.enabled(el) }));
  await s.waitFor("[data-testid=step-start-shop]", {
    timeoutMs: 60000,
    ready: async (el) => (await s.attr(el, "data-status")) === "passed",
  });
  assert(taggedIds().length >= 2, `the run's server and volume are not there: ${JSON.stringify(taggedIds())}`);
  return playerRunId(s);
}

// (WebKitWebDriver ends the app with SIGKILL when its window or session is
// closed, so a graceful ending is asked for with SIGTERM, which a logout or
// `kill` sends: the app stops the run as its window's close does.)
test(
  "asked to end mid-run on AWS (SIGTERM), the app deletes what the run made before it exits",
  async (s) => {
    await runOnAwsUnderWay(s, "e2e-aws-term");
    const pid = String(execFileSync("pgrep", ["-n", "-x", "snaplab-app"])).trim();
    execFileSync("kill", ["-TERM", pid]);
    await untilNothingTagged("after SIGTERM");
  },
  "aws",
);

let killedAwsRun = null;

test(
  "killed mid-run on AWS: the run's resources stay until the app opens again…",
  async (s) => {
    killedAwsRun = await runOnAwsUnderWay(s, "e2e-aws-killed");
    // Ending the session kills the app (SIGKILL): nothing can clean up.
  },
  "aws",
);

test(
  "…then it says so at once, and History's Clean up lists what carries the run's tags and deletes it",
  async (s) => {
    assert(killedAwsRun, "the previous test did not start a run");
    assert(taggedIds().length >= 2, `the killed run's resources are gone already: ${JSON.stringify(taggedIds())}`);
    const banner = await s.text(await s.waitFor("[data-testid=aws-left-behind]", { timeoutMs: 30000 }));
    assert(banner.includes(killedAwsRun), `the banner: ${banner}`);
    await s.click(await s.find("[data-testid=aws-left-behind] button"));
    await s.waitFor("[data-testid=history][data-loaded=true]", { timeoutMs: 30000 });
    await s.click(await s.waitFor(`[data-testid=clean-up-${killedAwsRun}]`));
    const dialog = await s.text(await s.waitFor("[data-testid=confirm-clean-up]", { timeoutMs: 60000 }));
    const ids = taggedIds();
    assert(ids.every((id) => dialog.includes(id)), `the confirmation lists ${dialog}; tagged: ${JSON.stringify(ids)}`);
    await s.click(await s.find("[data-testid=confirm-clean-up-confirm]"));
    const cleaned = await s.text(await s.waitFor("[data-testid=cleaned]", { timeoutMs: 120000 }));
    assert(cleaned.startsWith("Deleted"), `Clean up said: ${cleaned}`);
    await untilNothingTagged("after History's Clean up", 10000);
  },
  "aws",
);

test(
  "History finds what carries snaplab's tags in the account, deletes it after a confirm, and leaves the rest",
  async (s) => {
    const tags = "ResourceType=volume,Tags=[{Key=snaplab:run,Value=run-e2e-orphan},{Key=snaplab:lab,Value=securecart-snapshot}]";
    const orphan = awsCli(["ec2", "create-volume", "--availability-zone", "us-east-1a", "--size", "1", "--tag-specifications", tags]).VolumeId;
    const mine = awsCli(["ec2", "create-volume", "--availability-zone", "us-east-1a", "--size", "1"]).VolumeId;
    await openHistory(s);
    await s.waitFor(`[data-testid=sweep-profile] option[value='${AWS_PROFILE_NAME}']`, { timeoutMs: 30000 });
    await choose(s, "[data-testid=sweep-profile]", AWS_PROFILE_NAME);
    await s.click(await s.find("[data-testid=find-leftovers]"));
    await s.waitFor("[data-testid=leftovers]", { timeoutMs: 60000 });
    const listed = await s.exec("return [...document.querySelectorAll('[data-testid=leftovers] li')].map(li => li.dataset.id);");
    assert(listed.includes(orphan) && !listed.includes(mine), `listed ${JSON.stringify(listed)}; orphan ${orphan}, untagged ${mine}`);
    await s.click(await s.find("[data-testid=delete-leftovers]"));
    await s.waitFor("[data-testid=confirm-sweep]");
    await save(s, "aws-leftovers-confirm", true);
    await s.click(await s.find("[data-testid=confirm-sweep-confirm]"));
    const done = await s.text(await s.waitFor("[data-testid=leftovers-deleted]", { timeoutMs: 60000 }));
    assert(done.includes("nothing tagged by snaplab is left"), `after deleting: ${done}`);
    const volumes = awsCli(["ec2", "describe-volumes", "--query", "Volumes[].VolumeId"]);
    assert(!volumes.includes(orphan), `the tagged volume ${orphan} is still there`);
    assert(volumes.includes(mine), `the untagged volume ${mine} was deleted`);
  },
  "aws",
);

let passed = 0;
let failed = 0;
// One WebKitWebDriver per group: the app inherits its environment.
const groups = {
  default: async () => env,
  aws: async () => ({ ...env, ...(await startStandIn()) }),
  // The app with a class database: the board reads it, its own runs go to a file first.
  class: async () => ({ ...env, SNAPLAB_DB: classDatabase(), SNAPLAB_LOCAL_DB: join(dataDir, "instructor.db") }),
};
const drivers = new Map();
async function driverFor(group) {
  if (!drivers.has(group)) drivers.set(group, await startDriver(await groups[group]()));
  return drivers.get(group);
}
try {
  // E2E_ONLY="text|other" runs only the tests whose names contain one of them (while working on them).
  const only = process.env.E2E_ONLY?.split("|") ?? null;
  for (const t of tests.filter((t) => !only || only.some((o) => t.name.includes(o)))) {
    let s;
    const t0 = Date.now();
    try {
      const { base } = await driverFor(t.group);
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
  for (const { driver, log } of drivers.values()) {
    driver.kill();
    if (failed && log()) console.log(`WebKitWebDriver said:\n${log().slice(-2000)}`);
  }
  standIn.emulator?.kill("SIGTERM");
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
