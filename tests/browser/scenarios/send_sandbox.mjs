// Preview a valid offer beside its Kaleyra request, send it in the sandbox, find it in the list
// by the number's last four digits, and open its timeline.
import assert from "node:assert/strict";
import { assertNoNumber, assertUsable, signIn } from "./common.mjs";

export default async function (ctx) {
  const { page, url, step, config } = ctx;
  await signIn(ctx, config.key);
  await page.goto(url("/try"));
  await page.getByLabel("WhatsApp number").fill(config.number);
  await page.getByRole("combobox", { name: "Template" }).fill("lto_spring");
  await page.getByLabel("Header image URL").fill("https://cdn.example.com/spring.png");
  await page.getByLabel("Body variables").fill("Maya\n15%");
  await page.getByLabel("Offer lasts").fill("48h");
  await page.getByLabel("Coupon code").fill("SPRING15");
  await page.getByLabel("URL button suffix").fill("spring-sale");
  await page.getByRole("button", { name: "Preview" }).click();
  await page.waitForSelector(".phone");
  await step("preview");
  await assertUsable(page);
  await assertNoNumber(page, config.digits);

  const last4 = config.digits.slice(-4);
  const masked = "*".repeat(config.digits.length - 4) + last4;
  assert.match(await ctx.text(".phone .to"), new RegExp(`\\*+${last4}`));
  assert.match(await ctx.text(".phone .countdown"), /Ends in (1 d 23 h|2 d)/);
  assert.match(await ctx.text(".phone .wa-buttons"), /Copy code SPRING15/);
  assert.match(await ctx.text(".phone .wa-buttons"), /spring-sale/);
  assert.match(await ctx.text(".phone .vars"), /\{\{1\}\}\s*Maya/);
  const request = JSON.parse(await ctx.text("pre.json"));
  assert.equal(request.json.messaging_object.to, masked);
  assert.equal(request.json.extra_info.wa_source, "api");
  assert.equal(request.json.messaging_object.template.name, "lto_spring");
  assert.ok(request.json.messaging_object.template.components.some((c) => c.sub_type === "copy_code"));
  // the number typed is not in the form any more; the preview keeps it server-side
  assert.equal(await page.inputValue("#in-to"), "");
  assert.match(await page.getAttribute("#in-to", "placeholder"), new RegExp(`${last4}$`));

  await page.getByRole("button", { name: "Send in the sandbox" }).click();
  await page.waitForSelector("h1:has-text('Message')");
  await step("sent");
  assert.match(await ctx.text(".flashes"), /Sent in the sandbox/);
  assert.equal(await ctx.text("#status"), "accepted");
  const eventId = (await ctx.text("h1 .mono")).trim();
  await assertNoNumber(page, config.digits);

  await page.getByRole("link", { name: "Messages", exact: true }).first().click();
  await page.getByLabel("Number ends in").fill(last4);
  await page.getByRole("button", { name: "Filter" }).click();
  await page.waitForURL(/last4=/);
  await step("found");
  await assertUsable(page);
  assert.equal(await page.locator("table.list tbody tr").count(), 1);
  await page.getByRole("link", { name: eventId }).click();
  await page.waitForSelector("ol.timeline li");
  await step("timeline");
  const titles = await page.locator("ol.timeline .entry-title").allInnerTexts();
  assert.deepEqual(titles, ["Received from console (sync, sandbox)", "Attempt 1 at Kaleyra: accepted"]);
  assert.match(await ctx.text("ol.timeline li:nth-child(2) .details"), /HTTP status\s*202/);
  assert.match(await ctx.text("ol.timeline li:nth-child(2) .details"), /WA202/);
  const stored = JSON.parse(await ctx.text("pre.json"));
  assert.equal(stored.messaging_object.to, masked);
  await assertUsable(page);
  console.log(JSON.stringify({ event_id: eventId }));
}
