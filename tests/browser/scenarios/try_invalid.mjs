// An invalid offer: every error is shown at the field it belongs to, and summed up on top.
import assert from "node:assert/strict";
import { assertUsable, signIn } from "./common.mjs";

export default async function (ctx) {
  const { page, url, step } = ctx;
  await signIn(ctx, ctx.config.key);
  await page.goto(url("/try"));
  await step("try");
  await assertUsable(page);
  await page.getByLabel("WhatsApp number").fill("12345");
  await page.getByLabel("Header image URL").fill("not a link");
  await page.getByLabel("Body variables").fill("Asha\nwith     five spaces");
  await page.getByLabel("Offer lasts").fill("soon");
  await page.getByLabel("Coupon code").fill("THISCOUPONISTOOLONG");
  await page.getByRole("button", { name: "Preview" }).click();
  await page.waitForSelector("#error-summary li");
  await step("errors");
  await assertUsable(page);

  const expected = {
    to: "invalid_phone",
    header_image_url: "invalid_url",
    body_params: "invalid_body_param",
    expires_in: "invalid_duration",
    coupon_code: "too_long",
  };
  for (const [key, code] of Object.entries(expected)) {
    const item = page.locator(`#field-${key} .field-errors li[data-code="${code}"]`);
    assert.equal(await item.count(), 1, `no ${code} at ${key}`);
    const input = page.locator(`#in-${key}`);
    assert.equal(await input.getAttribute("aria-invalid"), "true", key);
    assert.match(await input.getAttribute("aria-describedby"), new RegExp(`error-${key}`));
  }
  assert.match(await ctx.text("#field-body_params .field-errors"), /\{\{2\}\}/);
  assert.match(await ctx.text("#field-coupon_code .field-errors"), /15/);
  assert.equal(await page.locator("#error-summary li").count(), 5);
  assert.equal(await page.getAttribute("#error-summary", "role"), "alert");
  // what was typed stays (except a number, which never goes back into a page)
  assert.equal(await page.inputValue("#in-coupon_code"), "THISCOUPONISTOOLONG");
  assert.equal(await page.locator(".phone").count(), 0); // no preview for an invalid offer
}
