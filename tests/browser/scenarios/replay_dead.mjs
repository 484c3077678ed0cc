// A dead letter: its error explained from the failure table, then replayed with its id.
import assert from "node:assert/strict";
import { assertUsable, signIn } from "./common.mjs";

export default async function (ctx) {
  const { page, url, step, config } = ctx;
  await signIn(ctx, config.key);
  await page.getByLabel("Status").selectOption("dead");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.waitForURL(/status=dead/);
  await step("dead-letters");
  await page.getByRole("link", { name: config.event_id }).click();
  await page.waitForSelector("#error-h");
  await step("dead-letter");
  await assertUsable(page);
  assert.equal(await ctx.text("#status"), "dead");
  const explained = await ctx.text("section:has(#error-h)");
  assert.match(explained, /refused this message's content \(WA400\)/);
  assert.match(explained, /kaleyra_rejected/);
  assert.match(explained, /Refer to correct payload format/);
  await page.getByRole("button", { name: "Replay" }).click();
  await page.waitForSelector(".flashes .flash");
  await step("replayed");
  assert.match(await ctx.text(".flashes"), /Replayed/);
  assert.equal(await ctx.text("#status"), "queued");
  assert.equal(await page.getByRole("button", { name: "Replay" }).count(), 0);
  assert.match(page.url(), new RegExp(`/messages/${config.event_id}$`));
}
