// Steps and checks the scenarios share.
import assert from "node:assert/strict";

export async function signIn(ctx, key) {
  const { page, url, step } = ctx;
  await page.goto(url("/sign-in"));
  await page.getByLabel("Admin key or console key").fill(key);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForSelector("h1:text-is('Messages')");
  await step("signed-in");
}

// What a keyboard or screen-reader user relies on, checked on the page as it is now.
export async function assertUsable(page) {
  const found = await page.evaluate(() => {
    const problems = [];
    const controls = document.querySelectorAll(
      "input:not([type=hidden]), select, textarea",
    );
    for (const control of controls) {
      const named = (control.labels && control.labels.length) || control.getAttribute("aria-label");
      if (!named) problems.push(`no label: ${control.outerHTML.slice(0, 80)}`);
      for (const id of (control.getAttribute("aria-describedby") || "").split(/\s+/)) {
        if (id && !document.getElementById(id)) problems.push(`describedby #${id} missing`);
      }
    }
    for (const button of document.querySelectorAll("button")) {
      if (!(button.innerText.trim() || button.getAttribute("aria-label"))) {
        problems.push(`nameless button: ${button.outerHTML.slice(0, 80)}`);
      }
    }
    const levels = [...document.querySelectorAll("h1, h2, h3, h4")].map((h) => Number(h.tagName[1]));
    if (levels.filter((l) => l === 1).length !== 1) problems.push(`h1 count: ${levels}`);
    if (levels[0] !== 1) problems.push(`first heading is not h1: ${levels}`);
    levels.forEach((level, i) => {
      if (i && level > levels[i - 1] + 1) problems.push(`heading jumps to h${level}: ${levels}`);
    });
    const skip = document.querySelector("a.skip");
    if (!skip || skip.getAttribute("href") !== "#main" || !document.getElementById("main")) {
      problems.push("no skip link to #main");
    }
    if (!document.documentElement.lang) problems.push("no lang");
    return problems;
  });
  assert.deepEqual(found, [], `usability problems on ${page.url()}`);
}

// No full phone number anywhere in the page's HTML (only the last four digits may show).
export async function assertNoNumber(page, digits) {
  const html = await page.content();
  const compact = html.replace(/[\s().-]/g, "");
  assert.ok(!compact.includes(digits.slice(-8)), `a full number is on ${page.url()}`);
}
