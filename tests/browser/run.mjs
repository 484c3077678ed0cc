// Runs one console scenario in Debian's Chromium through playwright-core (no browser download).
// Usage: node run.mjs <scenario> <config.json>
// config: {base_url, out_dir, ...scenario data}. Exit 0 when the scenario passes; otherwise the
// error is printed and a screenshot of each page the scenario reached (and of the failure) is
// written to out_dir.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

const [name, configPath] = process.argv.slice(2);
const config = JSON.parse(fs.readFileSync(configPath, "utf8"));
const scenario = (await import(`./scenarios/${name}.mjs`)).default;
const profile = fs.mkdtempSync(path.join(os.tmpdir(), "lto-console-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: config.chromium || "/usr/bin/chromium",
  headless: true,
  args: FLAGS,
  viewport: { width: config.width || 1200, height: config.height || 900 },
  timeout: 60_000,
});
context.setDefaultTimeout(15_000);
const page = context.pages()[0] || (await context.newPage());
const problems = []; // script errors and Content-Security-Policy violations on any page
page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
page.on("console", (message) => {
  if (message.type() === "error") problems.push(`console: ${message.text()}`);
});

const shots = [];
const ctx = {
  page,
  config,
  url: (p) => new URL(p, config.base_url).toString(),
  // remember what the page looks like now; written out only if the scenario fails
  async step(label) {
    shots.push({ label, png: await page.screenshot({ fullPage: true }) });
  },
  async text(selector) {
    return (await page.locator(selector).first().innerText()).trim();
  },
  // fail when any script error or CSP violation happened so far (ignoring offline image loads)
  clean() {
    const real = problems.filter((p) => !/net::ERR_|Failed to load resource/.test(p));
    if (real.length) throw new Error(`the pages reported problems:\n${real.join("\n")}`);
  },
};

let failed = null;
try {
  await scenario(ctx);
  ctx.clean();
} catch (error) {
  failed = error;
}
if (failed) {
  fs.mkdirSync(config.out_dir, { recursive: true });
  shots.forEach((shot, i) => {
    const file = `${String(i + 1).padStart(2, "0")}-${shot.label.replace(/[^\w-]+/g, "_")}.png`;
    fs.writeFileSync(path.join(config.out_dir, file), shot.png);
  });
  try {
    await page.screenshot({ path: path.join(config.out_dir, "failure.png"), fullPage: true });
    fs.writeFileSync(path.join(config.out_dir, "failure.html"), await page.content());
  } catch (error) {
    console.error(`(no failure screenshot: ${error.message})`);
  }
  console.error(`scenario ${name} failed at ${page.url()}:\n${failed.stack || failed}`);
}
await context.close();
fs.rmSync(profile, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
