// A paused account on the health page, resumed with its button.
import assert from "node:assert/strict";
import { assertUsable, signIn } from "./common.mjs";

export default async function (ctx) {
  const { page, url, step, config } = ctx;
  await signIn(ctx, config.key);
  await page.getByRole("link", { name: "Health" }).click();
  await page.waitForSelector("h1:text-is('Health')");
  await step("health");
  await assertUsable(page);
  assert.equal(await ctx.text("#queue-depth"), String(config.queued));
  assert.match(await ctx.text("section:has(#paused-h)"), new RegExp(`${config.account}[\\s\\S]*E110`));
  assert.equal(await page.locator("svg.chart polyline").count(), 4);
  assert.match(await page.locator("svg.chart desc").textContent(), /failed 1/);
  await page.getByRole("button", { name: `Resume account ${config.account}` }).click();
  await page.waitForSelector(".flashes .flash");
  await step("resumed");
  assert.match(await ctx.text(".flashes"), new RegExp(`Account ${config.account} resumed`));
  assert.equal(await ctx.text("#paused-none"), "None");
}
