// The installed app: the binary from the .deb, extracted into a throwaway
// root, opens its window headless, shows the start screen with the labs and
// records into the database it is given.
//   xvfb-run -a -s "-screen 0 1280x860x24" node tests/gui/installed.mjs <root>/usr/bin/snaplab-app
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Session, startDriver } from "./webdriver.mjs";

const app = resolve(process.argv[2] ?? "");
const data = mkdtempSync(join(tmpdir(), "snaplab-installed-"));
const db = join(data, "snaplab.db");
let passed = 0;
let failed = 0;
const { driver, base, log } = await startDriver({ SNAPLAB_DB: db });
let s;
try {
  s = await Session.create(base, app);
  await s.waitFor("[data-testid=start-lab]", { timeoutMs: 60000 });
  // The labs arrive from the app's Rust side after the page is up.
  await s.waitFor("[data-testid^=lab-]", { timeoutMs: 30000 });
  const labs = await s.exec("return document.querySelectorAll('[data-testid^=lab-]').length;");
  const footer = await s.text(await s.waitFor("footer"));
  if (!footer.includes(db)) throw new Error(`the footer does not name the record it was given: ${footer}`);
  if (!/snaplab \d+\.\d+\.\d+/.test(footer)) throw new Error(`no version in the footer: ${footer}`);
  if (labs < 1) throw new Error("no lab is listed on the start screen");
  passed++;
  console.log(`PASS the installed app opens, lists ${labs} labs and records into ${db}`);
} catch (e) {
  failed++;
  console.log(`FAIL the installed app: ${e.message}\n${log().slice(-2000)}`);
} finally {
  if (s) await s.close();
  driver.kill();
  rmSync(data, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
