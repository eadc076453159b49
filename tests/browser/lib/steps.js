"use strict";
// Steps several journeys share, each a named step of the visit with its page checks.
const assert = require("node:assert/strict");
const o = require("./obole");

/** Home page, then the `index`-th campaign card (by a click on its title). Returns `{ slug, title }`. */
async function openCampaignFromHome(visit, index, { screenshots = false } = {}) {
  const page = visit.page;
  await visit.step("open the home page", async () => {
    await o.goto(page, "/");
    await page.locator("#campagnes .card").first().waitFor();
  });
  await visit.checkPage("home", { screenshot: screenshots && "home" });
  return visit.step(`open campaign card #${index + 1} from the home page`, async () => {
    const cards = page.locator("#campagnes .card .card__title a");
    const count = await cards.count();
    assert.ok(count > index, `the home page lists ${count} campaign(s) under #campagnes; this journey needs card #${index + 1}`);
    const link = cards.nth(index);
    const href = await link.getAttribute("href");
    await Promise.all([page.waitForURL((u) => u.pathname === href), link.click()]);
    await page.locator(".campaign__aside .progress__figures").waitFor();
    const title = (await page.locator("article.campaign h1").textContent()).trim();
    return { slug: href.split("/").pop(), title };
  }).then(async (c) => {
    await visit.checkPage("campaign", { screenshot: screenshots && "campaign" });
    return c;
  });
}

/**
 * On the campaign page: ticks a frequency and the `amountIndex`-th quick amount of that
 * frequency, then « Je donne ». Returns the amount in cents.
 */
async function quickGive(visit, { frequency = "once", amountIndex = 0 } = {}) {
  const page = visit.page;
  return visit.step(`choose « ${frequency} » and quick amount #${amountIndex + 1} on the campaign page, then « Je donne »`, async () => {
    const form = page.locator("form.quick-give");
    await form.locator(`input[name="frequence"][value="${frequency}"]`).check();
    const radio = form.locator(`.quick-amounts__group[data-frequency="${frequency}"] input[name="montant"]`).nth(amountIndex);
    await radio.check();
    const cents = Number(await radio.getAttribute("value"));
    await Promise.all([page.waitForURL(/\/campagnes\/[^/]+\/don\?/), form.locator("button[type=submit]").click()]);
    await page.locator("form.donate-form").waitFor();
    const ticked = await o.tickedAmount(page);
    assert.deepEqual(ticked, { frequency, value: String(cents) }, `the form should open with ${frequency} and ${o.euros(cents)} ticked, as chosen on the campaign page`);
    return cents;
  });
}

/** On the form: « Autre montant » and a free amount typed the French way. Returns cents. */
async function typeOtherAmount(visit, typed) {
  const page = visit.page;
  return visit.step(`type a free amount « ${typed} » on the form`, async () => {
    const frequency = (await o.tickedAmount(page)).frequency || "once";
    await page.locator(`form.donate-form input[name="amount_${frequency}"][value="other"]`).check();
    await page.locator("#other_amount").fill(typed);
    return o.euroCents(typed);
  });
}

/** Fills the identity and goes to the sandbox's checkout. Returns the checkout session id. */
async function fillAndContinue(visit, d, { screenshots = false } = {}) {
  const page = visit.page;
  await visit.step("fill the donation form with a French donor", () => o.fillDonor(page, d));
  await visit.checkPage("donation form", { screenshot: screenshots && "form" });
  const session = await visit.step("« Continuer vers le paiement sécurisé » to the sandbox checkout", () =>
    o.submitToCheckout(visit, () => page.locator("form.donate-form button[type=submit]").click()),
  );
  await visit.checkPage("sandbox checkout", { screenshot: screenshots && "checkout" });
  return session;
}

/** Pays on the sandbox checkout with `outcome`, lands on /merci and waits for « Don confirmé ». */
async function payAndConfirm(visit, outcome = "card", { screenshots = false } = {}) {
  const page = visit.page;
  await visit.step(`pay on the sandbox checkout with « ${outcome} »`, async () => {
    await Promise.all([page.waitForURL(/\/merci\?/), o.outcomeButton(page, outcome).click()]);
  });
  await visit.checkPage("thank-you page (on arrival)");
  await visit.step("wait on /merci for « Don confirmé »", () => o.waitForConfirmed(visit));
  await visit.checkPage("thank-you page (confirmed)", { screenshot: screenshots && "thank-you" });
}

/** From /merci, « Retour à la campagne », then the campaign's total must have moved by `cents`. */
async function backToCampaignTotalMoved(visit, campaign, before, cents) {
  const page = visit.page;
  await visit.step("« Retour à la campagne » from /merci", async () => {
    const link = page.locator(".thanks a", { hasText: "Retour à la campagne" });
    await Promise.all([page.waitForURL((u) => u.pathname === `/campagnes/${campaign.slug}`), link.click()]);
  });
  await visit.step(`the campaign's total moved by ${o.euros(cents)}`, async () => {
    const expected = before.raisedCents + cents;
    const after = await o.pollCampaignFigures(visit.context, campaign.slug, (f) => f.raisedCents >= expected, 30_000);
    assert.equal(
      after.raisedCents,
      expected,
      `campaign « ${campaign.title} » should show ${o.euros(expected)} raised (${o.euros(before.raisedCents)} + ${o.euros(cents)}), shows ${o.euros(after.raisedCents)}`,
    );
    assert.ok(after.donors >= before.donors, `the donors count went down: ${before.donors} → ${after.donors}`);
  });
}

/** Figures must not move within the page cache's lifetime and a webhook's delay. */
async function assertNothingRecorded(visit, campaign, before, why) {
  await visit.step(`nothing recorded after ${why}`, async () => {
    const after = await o.pollCampaignFigures(visit.context, campaign.slug, (f) => f.raisedCents !== before.raisedCents || f.donors !== before.donors, 7_000);
    assert.deepEqual(after, before, `campaign « ${campaign.title} »'s figures moved after ${why}`);
  });
}

/** /merci for a session that was not paid must not say the gift is confirmed. */
async function assertSessionNotPaid(visit, session) {
  const page = visit.page;
  await visit.step(`/merci for the unpaid checkout ${session} does not claim a gift`, async () => {
    const check = await visit.context.newPage();
    try {
      await o.goto(check, `/merci?session_id=${encodeURIComponent(session)}`);
      const eyebrow = (await check.locator(".thanks .eyebrow").first().textContent()).trim();
      assert.equal(eyebrow, "Paiement non terminé", `/merci?session_id=${session} should say « Paiement non terminé »`);
    } finally {
      await check.close();
    }
    return page;
  });
}

module.exports = {
  openCampaignFromHome,
  quickGive,
  typeOtherAmount,
  fillAndContinue,
  payAndConfirm,
  backToCampaignTotalMoved,
  assertNothingRecorded,
  assertSessionNotPaid,
};
