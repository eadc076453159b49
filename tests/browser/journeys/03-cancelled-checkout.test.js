"use strict";
// J3: the donor leaves the checkout (« ← Retour ») without paying: back on the form with
// their entries; nothing is recorded.
const assert = require("node:assert/strict");
const { journey } = require("../lib/journey");
const o = require("../lib/obole");
const s = require("../lib/steps");

journey("J3 cancelled checkout", async (visit) => {
  const page = visit.page;
  const campaign = await s.openCampaignFromHome(visit, 2);
  const before = await visit.step("read the campaign's figures", () => o.campaignFigures(page));
  const cents = await s.quickGive(visit, { frequency: "once", amountIndex: 0 });
  const d = o.donor(`j3-${visit.viewport.name}`);
  const session = await s.fillAndContinue(visit, d);

  await visit.step("leave the checkout with « ← Retour »", async () => {
    const back = page.locator("a", { hasText: "Retour" });
    await Promise.all([page.waitForURL(/\/campagnes\/[^/]+\/don\?.*reprendre=1/), back.click()]);
    await page.locator("form.donate-form").waitFor();
  });
  await visit.checkPage("donation form, back from a cancelled checkout");
  await visit.step("the form kept the entries and the amount", async () => {
    await o.assertEntriesKept(page, d, "back from a cancelled checkout");
    const ticked = await o.tickedAmount(page);
    assert.deepEqual(ticked, { frequency: "once", value: String(cents) }, `the amount ${o.euros(cents)} should still be ticked`);
  });
  await s.assertSessionNotPaid(visit, session);
  await s.assertNothingRecorded(visit, campaign, before, "a cancelled checkout");
});
