// Sign in with the keyboard only (a wrong key first), see the list, sign out.
import assert from "node:assert/strict";
import { assertUsable } from "./common.mjs";

export default async function (ctx) {
  const { page, url, step, config } = ctx;
  await page.goto(url("/"));
  assert.match(page.url(), /\/sign-in/);
  await step("sign-in");
  await assertUsable(page);

  // the skip link is the first stop, and focus is visible wherever it is
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "Skip to content");
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, "none");
  await page.keyboard.press("Tab"); // the brand link
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.id), "key");

  await page.keyboard.type(config.wrong_key);
  await page.keyboard.press("Enter");
  await page.waitForSelector("#sign-in-error p");
  await step("wrong-key");
  assert.match(await ctx.text("#sign-in-error"), /not an admin key or a console key/);
  assert.equal(await page.getAttribute("#key", "aria-invalid"), "true");
  assert.equal(await page.getAttribute("#sign-in-error", "role"), "alert");
  assert.equal(await page.inputValue("#key"), ""); // the refused key is not written back

  await page.focus("#key");
  await page.keyboard.type(config.key);
  await page.keyboard.press("Enter");
  await page.waitForSelector("h1:text-is('Messages')");
  await step("messages");
  assert.match(await ctx.text(".flashes"), new RegExp(`Signed in as ${config.who}`));
  await assertUsable(page);
  const cookie = (await page.context().cookies()).find((c) => c.name === "lto_console");
  assert.ok(cookie && cookie.httpOnly && cookie.sameSite === "Strict", JSON.stringify(cookie));

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForSelector("h1:text-is('Sign in')");
  await step("signed-out");
  assert.match(await ctx.text(".flashes"), /Signed out/);
  await page.goto(url("/messages"));
  await page.waitForSelector("h1:text-is('Sign in')");
  assert.match(page.url(), /\/sign-in\?next=/);
}
