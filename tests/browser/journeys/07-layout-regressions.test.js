"use strict";
// J7: layout bugs seen in a browser, held here where only a browser can see them (issue 13):
// the form's fields beside one showing an error, the error summary's width, the dedicated
// person's name only once a dedication is chosen, the campaign page's order on a phone, and
// the footer of a short page at the bottom of the screen.
const assert = require("node:assert/strict");
const { journey } = require("../lib/journey");
const o = require("../lib/obole");

journey("J7 layout regressions", async (visit) => {
  const page = visit.page;
  const phone = visit.viewport.name === "phone";

  await visit.step("open a campaign's form", async () => {
    await o.goto(page, "/");
    const href = await page.locator("a[href^='/campagnes/']").first().getAttribute("href");
    await o.goto(page, href.replace(/\/?$/, "") + "/don");
    await page.locator("form.donate-form").waitFor();
  });

  await visit.step("« Nom de la personne » shows only once a dedication is chosen", async () => {
    assert.equal(await page.locator("#dedication_name").isVisible(), false, "hidden with « Pas de dédicace »");
    const kinds = await page.locator("#dedication_kind option").evaluateAll((options) => options.map((x) => x.value));
    await page.selectOption("#dedication_kind", kinds.find((v) => v !== ""));
    assert.equal(await page.locator("#dedication_name").isVisible(), true, "shown once a dedication is chosen");
    await page.selectOption("#dedication_kind", "");
  });

  await visit.step("send the form with a city and no postal code", async () => {
    await page.fill("#first_name", "Marie");
    await page.fill("#last_name", "Curie");
    await page.fill("#email", "marie.curie@example.org");
    await page.fill("#address_line1", "1 rue Pierre et Marie Curie");
    await page.fill("#city", "Paris");
    await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.locator("button[type=submit]").last().click()]);
    await page.locator("#form-errors").waitFor();
  });
  await visit.checkPage("donation form with an error");

  await visit.step("« Ville » keeps its height and line beside the postal code's error", async () => {
    const postal = await page.locator("#postal_code").boundingBox();
    const city = await page.locator("#city").boundingBox();
    assert.ok(Math.abs(city.height - postal.height) < 1, `Ville ${city.height}px tall, Code postal ${postal.height}px`);
    if (!phone) assert.ok(Math.abs(city.y - postal.y) < 1, `Ville at y=${city.y}, Code postal at y=${postal.y}`);
  });

  await visit.step("the error summary is as wide as the form at most, and apart from it", async () => {
    const summary = await page.locator("#form-errors").boundingBox();
    const form = await page.locator("form.donate-form").boundingBox();
    assert.ok(summary.width <= form.width + 1, `summary ${summary.width}px wide, form ${form.width}px`);
    assert.ok(form.y - (summary.y + summary.height) >= 8, `${form.y - (summary.y + summary.height)}px between them`);
  });

  if (phone) {
    await visit.step("campaign page on a phone: the gift, then the story, then who gave", async () => {
      await o.goto(page, "/");
      const href = await page.locator("a[href^='/campagnes/']").first().getAttribute("href");
      await o.goto(page, href);
      const y = async (selector) => (await page.locator(selector).first().boundingBox()).y;
      const give = await y(".quick-give");
      const story = await y("#histoire");
      const donors = await y(".supporters");
      assert.ok(give < story && story < donors, `gift at ${give}, story at ${story}, donors at ${donors}`);
      assert.ok(await page.locator(".quick-amount").first().isVisible(), "the quick gift offers amounts");
    });
  }

  await visit.step("a short page ends with its footer at the bottom of the screen", async () => {
    await page.goto(new URL("/nexiste-pas", page.url()).toString());
    const footer = await page.locator(".site-footer").boundingBox();
    const height = page.viewportSize().height;
    assert.ok(footer.y + footer.height >= height - 1, `footer ends at ${footer.y + footer.height}px of ${height}`);
  });
});
