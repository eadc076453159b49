"use strict";
// J6: the back-office. Signs in at /admin, then the dashboard, the donations list and the
// donors page. Needs an account (see lib/staff.js); skipped, saying why, without one.
const assert = require("node:assert/strict");
const { journey } = require("../lib/journey");
const { staffAccount } = require("../lib/staff");
const o = require("../lib/obole");

let account;
try {
  account = staffAccount();
} catch (error) {
  account = { error: `could not create a staff account with ${process.env.OBOLE_BIN}: ${error.message}` };
}
if (account.error) throw new Error(account.error);

journey(
  "J6 back-office",
  async (visit) => {
    const page = visit.page;
    await visit.step("/admin asks to sign in", async () => {
      await page.goto(o.url("/admin"), { waitUntil: "load" });
      await page.waitForURL((u) => u.pathname === "/admin/connexion");
      await page.locator('form[action="/admin/connexion"]').waitFor();
    });
    await visit.checkPage("back-office sign-in");
    await visit.step(`sign in as ${account.email}`, async () => {
      await page.locator("#email").fill(account.email);
      await page.locator("#password").fill(account.password);
      await Promise.all([page.waitForURL((u) => u.pathname === "/admin"), page.locator('form[action="/admin/connexion"] button[type=submit]').click()]);
      await page.locator("h1", { hasText: "Tableau de bord" }).waitFor();
    });
    await visit.checkPage("back-office dashboard", { screenshot: "dashboard" });

    const nav = async (label, path, heading, expect) => {
      await visit.step(`open « ${label} » from the back-office menu`, async () => {
        const link = page.locator("nav.admin-nav a", { hasText: label }).first();
        if (await link.isVisible()) {
          await Promise.all([page.waitForURL((u) => u.pathname === path), link.click()]);
        } else {
          // The menu may be folded on a phone: the page must still be reachable.
          visit.log(`« ${label} » is not visible in the menu at this size; opening ${path} directly`);
          await o.goto(page, path);
        }
        await page.locator("h1", { hasText: heading }).waitFor();
        await expect();
      });
    };
    await nav("Dons", "/admin/dons", "Dons", async () => {
      const rows = await page.locator("table.admin-table tbody tr").count();
      assert.ok(rows > 0, "/admin/dons should list donations (the demo seeds some, and the journeys gave more)");
    });
    await visit.checkPage("back-office donations", { screenshot: "admin-donations" });
    await nav("Donateurs", "/admin/donateurs", "Donateurs", async () => {
      const figures = await page.locator("dl.figures dd").count();
      assert.ok(figures > 0, "/admin/donateurs should show its figures (new donors, average gift…)");
    });
    await visit.checkPage("back-office donors", { screenshot: "admin-donors" });
  },
  { skip: account.skip || false },
);
