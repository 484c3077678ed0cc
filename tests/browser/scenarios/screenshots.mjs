// The README's pictures of the main pages (fake data, masked numbers), written to config.shots.
import fs from "node:fs";
import path from "node:path";
import { signIn } from "./common.mjs";

export default async function (ctx) {
  const { page, url, config } = ctx;
  fs.mkdirSync(config.shots, { recursive: true });
  const shoot = (name) => page.screenshot({ path: path.join(config.shots, `${name}.png`) });
  await page.goto(url("/sign-in"));
  await shoot("sign-in");
  await signIn(ctx, config.key);
  await page.goto(url("/messages"));
  await shoot("messages");
  await page.goto(url(`/messages/${config.dead_id}`));
  await shoot("message");
  await page.goto(url("/try?connection=acme"));
  await page.getByLabel("WhatsApp number").fill(config.number);
  await page.getByRole("combobox", { name: "Template" }).fill("lto_summer");
  await page.getByLabel("Header image URL").fill(config.image);
  await page.getByLabel("Body variables").fill("Asha\n20%");
  await page.getByLabel("Offer lasts").fill("48h");
  await page.getByLabel("Coupon code").fill("SUMMER20");
  await page.getByLabel("URL button suffix").fill("summer-sale");
  await page.getByRole("button", { name: "Preview" }).click();
  await page.waitForSelector(".phone");
  await shoot("try");
  await page.goto(url("/health"));
  await shoot("health");
}
