"use strict";
// J2: a card the bank declines. The checkout says so in French; « ← Retour » brings the donor
// back to the form with their entries; nothing is recorded.
const assert = require("node:assert/strict");
const { journey } = require("../lib/journey");
const o = require("../lib/obole");
const s = require("../lib/steps");

journey("J2 declined card", async (visit) => {
  const page = visit.page;
  const campaign = await s.openCampaignFromHome(visit, 1);
  const before = await visit.step("read the campaign's figures", () => o.campaignFigures(page));
  await s.quickGive(visit, { frequency: "once", amountIndex: 0 });
  const typed = "35";
  await s.typeOtherAmount(visit, typed);
  const d = o.donor(`j2-${visit.viewport.name}`);
  const session = await s.fillAndContinue(visit, d);

  await visit.step("pay with the declined card (4000…0002)", async () => {
    await o.outcomeButton(page, "card_declined").click();
    const alert = page.locator("[role=alert]");
    await alert.waitFor();
    const text = (await alert.textContent()).trim();
    assert.match(text, /refusée/, `the checkout should say in French that the card was declined, says « ${text} »`);
    assert.match(page.url(), /\/sandbox\/checkout\//, "a declined card should leave the donor on the checkout");
  });
  await visit.checkPage("sandbox checkout, card declined");

  await visit.step("« ← Retour » from the checkout back to the form", async () => {
    const back = page.locator("a", { hasText: "Retour" });
    await Promise.all([page.waitForURL(/\/campagnes\/[^/]+\/don\?.*reprendre=1/), back.click()]);
    await page.locator("form.donate-form").waitFor();
  });
  await visit.checkPage("donation form, back from a declined card");
  await visit.step("the form kept the entries and the amount", async () => {
    await o.assertEntriesKept(page, d, "back from a declined card");
    const ticked = await o.tickedAmount(page);
    assert.equal(ticked.value, "other", "the free amount should still be ticked");
    assert.equal(await page.locator("#other_amount").inputValue(), typed, "the free amount typed should be kept");
  });
  await s.assertSessionNotPaid(visit, session);
  await s.assertNothingRecorded(visit, campaign, before, "a declined card");
});
