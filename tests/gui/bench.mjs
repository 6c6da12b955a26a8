// Benchmarks of the real desktop app (not tests): cold start to an
// interactive start screen, idle memory, and event handling / frame time
// during a demo-pace run. Run under a display: scripts/bench-app.sh.

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Session, startDriver } from "./webdriver.mjs";

const root = resolve(import.meta.dirname, "../..");
const app = resolve(process.argv[2] ?? join(root, "target/debug/snaplab-app"));
const runs = Number(process.env.BENCH_RUNS ?? 7);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sorted = (a) => [...a].sort((x, y) => x - y);
const q = (a, p) => sorted(a)[Math.min(a.length - 1, Math.floor(a.length * p))];
const median = (a) => q(a, 0.5);
const env = () => ({ ...process.env, SNAPLAB_DB: join(mkdtempSync(join(tmpdir(), "snaplab-bench-")), "snaplab.db") });

/** Wall time from spawning the app to its start screen calling `ui_ready`. */
async function coldStart() {
  const t0 = performance.now();
  const child = spawn(app, [], { env: { ...env(), SNAPLAB_EXIT_WHEN_READY: "1" }, stdio: ["ignore", "pipe", "ignore"] });
  await new Promise((res, rej) => {
    child.stdout.on("data", (d) => String(d).includes("snaplab-app ready") && res());
    child.on("exit", (code) => rej(new Error(`exited ${code} before ready`)));
  });
  const ms = performance.now() - t0;
  await new Promise((res) => child.on("exit", res));
  return ms;
}

function descendants(pid) {
  const parent = new Map();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      /* gone */
    }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) for (const [c, p] of parent) if (p === out[i]) out.push(c);
  return out;
}

function memoryKiB(pid, field) {
  try {
    const m = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8").match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Resident memory of the app and its WebKit processes, 5 s after the start screen is up. */
async function idleMemory() {
  const child = spawn(app, [], { env: { ...env(), RUST_LOG: "snaplab_app=info" }, stdio: ["ignore", "ignore", "pipe"] });
  await new Promise((res) => child.stderr.on("data", (d) => String(d).includes("start screen interactive") && res()));
  await sleep(5000);
  const pids = descendants(child.pid);
  const names = pids.map((p) => {
    try {
      return readFileSync(`/proc/${p}/comm`, "utf8").trim();
    } catch {
      return "?";
    }
  });
  const rss = pids.map((p) => memoryKiB(p, "Rss"));
  const pss = pids.map((p) => memoryKiB(p, "Pss"));
  const appPrivate = memoryKiB(pids[0], "Private_Clean") + memoryKiB(pids[0], "Private_Dirty");
  child.kill("SIGTERM");
  return { names, appRss: rss[0], appPrivate, totalRss: rss.reduce((a, b) => a + b, 0), totalPss: pss.reduce((a, b) => a + b, 0) };
}

/** A whole guided run at demo pace, straight through, without polling the page while it runs. */
async function demoRunFrames() {
  const { driver, base } = await startDriver(env());
  try {
    const s = await Session.create(base, app);
    await s.waitFor("[data-testid=lab-securecart-snapshot]");
    await s.click(await s.find("input[type=checkbox]:not([data-testid=large-type])"));
    await s.click(await s.find("[data-testid=start-lab]"));
    for (let i = 0; i < 60; i++) {
      await sleep(3000);
      if ((await s.findAll("[data-testid=run-outcome]")).length) break;
      // The lab's knowledge checks wait for an answer: the first choice will do.
      for (const card of await s.findAll("[data-testid=question-card] [data-testid=choice-0]")) {
        await s.click(card);
        await s.click(await s.find("[data-testid=answer-question]"));
      }
    }
    const perf = await s.exec("return window.__snaplabPerf;");
    await s.close();
    return perf;
  } finally {
    driver.kill();
  }
}

const starts = [];
for (let i = 0; i < runs; i++) starts.push(await coldStart());
console.log(`cold start to interactive start screen: median ${median(starts).toFixed(0)} ms (min ${sorted(starts)[0].toFixed(0)}, max ${sorted(starts).at(-1).toFixed(0)}, ${runs} runs)`);

const mem = await idleMemory();
console.log(`idle memory (5 s after the start screen): app process RSS ${(mem.appRss / 1024).toFixed(1)} MiB (private ${(mem.appPrivate / 1024).toFixed(1)} MiB); with its WebKit processes RSS ${(mem.totalRss / 1024).toFixed(1)} MiB, PSS ${(mem.totalPss / 1024).toFixed(1)} MiB (${mem.names.join(", ")})`);

const perf = await demoRunFrames();
console.log(`demo-pace run: ${perf.batches} event batches (${perf.events} events)`);
console.log(`  handling a batch (fold + DOM update): median ${median(perf.handleMs).toFixed(1)} ms, p99 ${q(perf.handleMs, 0.99).toFixed(1)} ms, max ${Math.max(...perf.handleMs).toFixed(1)} ms`);
const gaps = perf.frameGapsMs;
console.log(`  frame gaps while running: median ${median(gaps).toFixed(1)} ms, p99 ${q(gaps, 0.99).toFixed(1)} ms, max ${Math.max(...gaps).toFixed(1)} ms, ${gaps.filter((g) => g > 50).length} of ${gaps.length} over 50 ms`);
