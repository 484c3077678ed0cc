// Forms with a forged CSRF token are refused and change nothing.
import assert from "node:assert/strict";
import { signIn } from "./common.mjs";

export default async function (ctx) {
  const { page, url, step, config } = ctx;
  await signIn(ctx, config.key);
  await page.goto(url(`/messages/${config.event_id}`));
  const forge = () => page.evaluate(() => {
    for (const input of document.querySelectorAll("input[name=csrf_token]")) {
      input.value = "IjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAi.forged.signature";
    }
  });
  await forge();
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith("/replay")),
    page.getByRole("button", { name: "Replay" }).click(),
  ]);
  assert.equal(response.status(), 400);
  await page.waitForSelector("h1:text-is('The form could not be checked')");
  await step("refused");
  assert.match(await ctx.text("[role=alert]"), /CSRF/);

  await page.goto(url(`/messages/${config.event_id}`));
  assert.equal(await ctx.text("#status"), "dead");
  await forge();
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForSelector("h1:text-is('The form could not be checked')");
  await page.goto(url("/messages"));
  await page.waitForSelector("h1:text-is('Messages')"); // still signed in
}
