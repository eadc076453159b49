"use strict";
// J5: the one-off gift of J1 (a) with JavaScript disabled, at both sizes, and (b) with the
// keyboard only (Tab, Space, Enter; no click) at laptop size.
const assert = require("node:assert/strict");
const { journey, VIEWPORTS } = require("../lib/journey");
const o = require("../lib/obole");
const s = require("../lib/steps");

journey(
  "J5a one-off gift without JavaScript",
  async (visit) => {
    const page = visit.page;
    const campaign = await s.openCampaignFromHome(visit, 0);
    const before = await visit.step("read the campaign's figures", () => o.campaignFigures(page));
    await s.quickGive(visit, { frequency: "once", amountIndex: 0 });
    const cents = await s.typeOtherAmount(visit, "42,50");
    const d = o.donor(`j5a-${visit.viewport.name}`);
    await s.fillAndContinue(visit, d);
    await visit.step("the checkout shows the free amount", async () => {
      const shown = await page.locator(".sb-amount").textContent();
      assert.equal(o.euroCents(shown.replace(/[^\d\s\u00a0\u202f,€]/g, "")), cents, `checkout should show ${o.euros(cents)}, shows « ${shown.trim()} »`);
    });
    await s.payAndConfirm(visit, "card");
    await s.backToCampaignTotalMoved(visit, campaign, before, cents);
  },
  { javaScriptEnabled: false },
);

journey(
  "J5b one-off gift with the keyboard only",
  async (visit) => {
    const page = visit.page;
    const focusShown = async (what) => {
      if (!(await o.focusVisible(page))) visit.problem(`the keyboard focus is not visible on ${what} (no outline or box-shadow) at ${page.url()}`);
    };
    const pressEnterAndWait = async (urlPredicate) => {
      await Promise.all([page.waitForURL(urlPredicate), page.keyboard.press("Enter")]);
      await page.waitForLoadState("load");
    };

    await visit.step("open the home page", () => o.goto(page, "/"));
    await visit.checkPage("home");
    await visit.step("the first Tab reaches the skip link", async () => {
      await page.keyboard.press("Tab");
      const skip = await page.evaluate(() => document.activeElement && document.activeElement.matches("a.skip-link"));
      assert.ok(skip, "the first Tab should focus « Aller au contenu » (a.skip-link)");
      await focusShown("the skip link");
    });
    const campaign = await visit.step("Tab to the first campaign's title and Enter", async () => {
      const href = await page.locator("#campagnes .card .card__title a").first().getAttribute("href");
      await o.tabTo(page, `#campagnes .card__title a[href="${href}"]`, { what: "the first campaign's title link" });
      await focusShown("the campaign link");
      await pressEnterAndWait((u) => u.pathname === href);
      await page.locator(".campaign__aside .progress__figures").waitFor();
      return { slug: href.split("/").pop(), title: (await page.locator("article.campaign h1").textContent()).trim() };
    });
    await visit.checkPage("campaign");
    const before = await visit.step("read the campaign's figures", () => o.campaignFigures(page));
    const cents = await visit.step("Tab to the first quick amount, Space, Tab to « Je donne », Enter", async () => {
      await o.tabTo(page, 'form.quick-give input[name="montant"]', { what: "a quick amount" });
      await focusShown("a quick amount");
      await page.keyboard.press("Space");
      const value = await page.evaluate(() => {
        const el = document.activeElement;
        return el.checked ? el.value : null;
      });
      assert.ok(value, "Space on the focused quick amount should tick it");
      await o.tabTo(page, "form.quick-give button[type=submit]", { what: "« Je donne »" });
      await focusShown("« Je donne »");
      await pressEnterAndWait(/\/campagnes\/[^/]+\/don\?/);
      await page.locator("form.donate-form").waitFor();
      const ticked = await o.tickedAmount(page);
      assert.equal(ticked.value, value, "the form should open with the quick amount ticked");
      return Number(value);
    });
    await visit.checkPage("donation form", { screenshot: "keyboard-form" });
    const d = o.donor(`j5b-${visit.viewport.name}`);
    await visit.step("type the donor's identity, field by field with Tab", async () => {
      for (const name of o.DONOR_FIELDS) {
        await o.tabTo(page, `form.donate-form #${name}`, { what: `the field #${name}` });
        await focusShown(`the field #${name}`);
        await page.keyboard.type(d[name]);
      }
      await o.assertEntriesKept(page, d, "typed with the keyboard");
      assert.equal(await page.locator("#country").inputValue(), "FR", "France should be the default country");
    });
    await visit.step("Tab to « Continuer vers le paiement sécurisé », Enter", () =>
      o.submitToCheckout(visit, async () => {
        const onIt = await page.evaluate(() => document.activeElement && document.activeElement.matches("form.donate-form button[type=submit]"));
        if (!onIt) await o.tabTo(page, "form.donate-form button[type=submit]", { what: "the submit button" });
        await focusShown("the submit button");
        await page.keyboard.press("Enter");
      }),
    );
    await visit.checkPage("sandbox checkout");
    await visit.step("Tab to « Carte qui fonctionne », Enter", async () => {
      await o.tabTo(page, '.sb-choices button[value="card"]', { what: "the card that works" });
      await focusShown("the sandbox's card button");
      await pressEnterAndWait(/\/merci\?/);
    });
    await visit.checkPage("thank-you page (on arrival)");
    await visit.step("wait on /merci for « Don confirmé »", () => o.waitForConfirmed(visit));
    await visit.checkPage("thank-you page (confirmed)");
    await visit.step("Tab to « Retour à la campagne », Enter", async () => {
      await o.tabTo(page, `.thanks a[href="/campagnes/${campaign.slug}"]`, { what: "« Retour à la campagne »" });
      await pressEnterAndWait((u) => u.pathname === `/campagnes/${campaign.slug}`);
    });
    await visit.step(`the campaign's total moved by ${o.euros(cents)}`, async () => {
      const expected = before.raisedCents + cents;
      const after = await o.pollCampaignFigures(visit.context, campaign.slug, (f) => f.raisedCents >= expected, 30_000);
      assert.equal(after.raisedCents, expected, `campaign « ${campaign.title} » should show ${o.euros(expected)} raised, shows ${o.euros(after.raisedCents)}`);
    });
  },
  { viewports: [VIEWPORTS.laptop] },
);
