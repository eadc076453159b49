"use strict";
// J1: a one-off gift from the home page, paid with a card that works; the thank-you page
// confirms in place; the campaign's total moves by the amount. Also: the campaign page's
// weight (without images) and its layout at 360 px.
const assert = require("node:assert/strict");
const { journey } = require("../lib/journey");
const { CAMPAIGN_WEIGHT_BUDGET } = require("../lib/env");
const { pageWeight, describeWeight } = require("../lib/weight");
const { horizontalOverflow } = require("../lib/visit");
const o = require("../lib/obole");
const s = require("../lib/steps");

journey("J1 one-off gift", async (visit) => {
  const page = visit.page;
  const campaign = await s.openCampaignFromHome(visit, 0, { screenshots: true });
  const before = await visit.step("read the campaign's figures", () => o.campaignFigures(page));

  await visit.step(`campaign page weighs under ${CAMPAIGN_WEIGHT_BUDGET / 1024} KB without images`, async () => {
    const w = await pageWeight(visit.context, `/campagnes/${campaign.slug}`);
    visit.log(`campaign page: ${(w.total / 1024).toFixed(1)} KB without images, ${(w.images / 1024).toFixed(1)} KB of images`);
    if (w.total > CAMPAIGN_WEIGHT_BUDGET) {
      visit.problem(`campaign page /campagnes/${campaign.slug} transfers ${(w.total / 1024).toFixed(1)} KB without images, budget ${CAMPAIGN_WEIGHT_BUDGET / 1024} KB: ${describeWeight(w)}`);
    }
  });

  if (visit.viewport.name === "phone") {
    await visit.step("campaign page has no horizontal overflow at 360 px wide", async () => {
      await page.setViewportSize({ width: 360, height: 800 });
      try {
        const overflow = await horizontalOverflow(page);
        if (overflow) {
          visit.problem(`horizontal overflow on the campaign page at 360 px: ${overflow.scrollWidth}px wide; widest: ${overflow.culprits.join(", ")}`);
        }
      } finally {
        await page.setViewportSize({ width: visit.viewport.width, height: visit.viewport.height });
      }
    });
  }

  const cents = await s.quickGive(visit, { frequency: "once", amountIndex: 1 });
  const d = o.donor(`j1-${visit.viewport.name}`);
  await s.fillAndContinue(visit, d, { screenshots: true });
  await visit.step("the checkout shows the amount", async () => {
    const shown = await page.locator(".sb-amount").textContent();
    assert.equal(o.euroCents(shown.replace(/[^\d\s\u00a0\u202f,€]/g, "")), cents, `checkout should show ${o.euros(cents)}, shows « ${shown.trim()} »`);
  });
  await s.payAndConfirm(visit, "card", { screenshots: true });
  await s.backToCampaignTotalMoved(visit, campaign, before, cents);
});
