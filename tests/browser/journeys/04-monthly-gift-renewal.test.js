"use strict";
// J4: a monthly gift; the sandbox's clock is advanced 31 days from its dashboard (/sandbox),
// which renews the subscription; the supporter signs in to « Mon espace » through the link
// the outbox (/demo/emails) received, and sees the gift and both instalments.
const assert = require("node:assert/strict");
const { journey } = require("../lib/journey");
const { env } = require("../lib/env");
const o = require("../lib/obole");
const s = require("../lib/steps");

journey("J4 monthly gift and its renewal", async (visit) => {
  const page = visit.page;
  const campaign = await s.openCampaignFromHome(visit, 3);
  const cents = await s.quickGive(visit, { frequency: "monthly", amountIndex: 0 });
  const d = o.donor(`j4-${visit.viewport.name}`);
  await s.fillAndContinue(visit, d);
  await visit.step("the checkout is a monthly subscription", async () => {
    const interval = (await page.locator(".sb-interval").textContent().catch(() => "")).trim();
    assert.ok(interval, "the sandbox checkout should show the subscription's interval (.sb-interval)");
    assert.ok(await o.outcomeButton(page, "card_renewal_fails").count(), "a subscription checkout offers « Carte qui échouera au renouvellement »");
  });
  await s.payAndConfirm(visit, "card");

  await visit.step("open the sandbox dashboard", async () => {
    await o.goto(page, "/sandbox");
    await page.locator("h1", { hasText: "Horloge" }).waitFor();
  });
  await visit.checkPage("sandbox dashboard");
  await visit.step("advance the sandbox clock by 31 days", async () => {
    const clock = (await page.locator("h1").textContent()).trim();
    await Promise.all([
      page.waitForURL((u) => u.pathname.startsWith("/sandbox")),
      page.locator('form[action$="/control/advance"] button[value="31"]').click(),
    ]);
    await page.waitForLoadState("load");
    const after = (await page.locator("h1").textContent()).trim();
    assert.notEqual(after, clock, `the sandbox clock should have moved (still « ${clock} »)`);
    visit.log(`sandbox ${clock} → ${after}`);
  });

  await visit.step("ask for a sign-in link on « Mon espace »", async () => {
    await o.goto(page, "/mon-espace");
    await page.locator("form.space-form #email").waitFor();
  });
  await visit.checkPage("Mon espace sign-in");
  await visit.step("send the sign-in link to the donor's email", async () => {
    await page.locator("form.space-form #email").fill(d.email);
    await Promise.all([page.waitForURL((u) => u.pathname.startsWith("/mon-espace/connexion")), page.locator("form.space-form button[type=submit]").click()]);
    await page.locator("h1", { hasText: "Vérifiez votre boîte mail" }).waitFor();
  });
  await visit.checkPage("sign-in link sent");

  const link = await visit.step("find the sign-in link in the outbox (/demo/emails)", async () => {
    const { link } = await o.waitForEmailLink(visit.context.request, d.email, /https?:\/\/[^\s<>"]+\/mon-espace\/connexion\/[A-Za-z0-9_\-.~%]+/);
    // The link is built on BASE_URL; follow it on the server under test.
    const u = new URL(link);
    return env.baseUrl + u.pathname + u.search;
  });
  await visit.step("open the sign-in link", async () => {
    await page.goto(link, { waitUntil: "load" });
    await page.locator("form button[type=submit]", { hasText: "Ouvrir mon espace" }).waitFor();
  });
  await visit.checkPage("open my space");
  await visit.step("« Ouvrir mon espace »", async () => {
    await Promise.all([
      page.waitForURL((u) => u.pathname === "/mon-espace"),
      page.locator("form button[type=submit]", { hasText: "Ouvrir mon espace" }).click(),
    ]);
    await page.locator(".space__head h1").waitFor();
  });

  await visit.step(`« Mon espace » lists the monthly gift and its two instalments for « ${campaign.title} »`, async () => {
    const deadline = Date.now() + 30_000;
    let rows = [];
    for (;;) {
      rows = (await o.spaceDonations(page)).filter((r) => r.campaign === campaign.title);
      if (rows.length >= 2 || Date.now() > deadline) break;
      await page.waitForTimeout(1000);
      await page.reload({ waitUntil: "load" });
    }
    assert.equal(
      rows.length,
      2,
      `expected 2 donations (first instalment + renewal) of ${o.euros(cents)} for « ${campaign.title} », found: ${JSON.stringify(rows)}`,
    );
    for (const r of rows) assert.equal(o.euroCents(r.amount), cents, `each instalment should be ${o.euros(cents)}: ${JSON.stringify(r)}`);
    const gifts = page.locator(".space__gifts li", { hasText: campaign.title });
    assert.equal(await gifts.count(), 1, "« Mes dons réguliers » should list the monthly gift once");
  });
  await visit.checkPage("Mon espace", { screenshot: "mon-espace" });
});
