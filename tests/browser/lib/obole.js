"use strict";
// What the journeys know about Obole's pages (selectors from templates/ and the sandbox's
// crates/stripe-sandbox/templates/), and the demo's side doors: the sandbox dashboard and
// the email outbox at /demo/emails.
const assert = require("node:assert/strict");
const { env } = require("./env");

/** Reads a French amount (« 2 800 € », « 42,50 € ») as cents. */
function euroCents(text) {
  const t = String(text).replace(/[\s\u00a0\u202f€]/g, "").replace(",", ".");
  const n = Number(t);
  if (!Number.isFinite(n)) throw new Error(`not an amount in euros: « ${text} »`);
  return Math.round(n * 100);
}

function euros(cents) {
  return `${(cents / 100).toFixed(2).replace(".", ",").replace(",00", "")} €`;
}

/** A French donor, unique to this journey and run (the email is how the space finds them). */
function donor(tag) {
  const safe = tag.toLowerCase().replace(/[^a-z0-9]+/g, "-");
  return {
    first_name: "Camille",
    last_name: "Lefèvre-Dupont",
    email: `e2e-${safe}-${env.runId}@example.org`,
    address_line1: "12 rue de la République",
    address_line2: "Bâtiment B, 3e étage",
    postal_code: "69002",
    city: "Lyon",
  };
}

const DONOR_FIELDS = ["first_name", "last_name", "email", "address_line1", "address_line2", "postal_code", "city"];

/** Absolute URL of a path of the Obole under test. */
function url(path) {
  return env.baseUrl + path;
}

async function goto(page, path) {
  const response = await page.goto(url(path), { waitUntil: "load" });
  assert.ok(response, `no response for ${path}`);
  assert.ok(response.status() < 400, `GET ${path} answered HTTP ${response.status()}`);
  return response;
}

/** The campaign's total raised and donors, as its page shows them. */
async function campaignFigures(page) {
  const raised = await page.locator(".campaign__aside .progress__figures strong").first().textContent();
  const donors = await page.locator(".campaign__aside .stats dt", { hasText: "donateurs" }).locator("xpath=following-sibling::dd").textContent();
  return { raisedCents: euroCents(raised), donors: Number(donors.replace(/\D/g, "")) };
}

/**
 * Reads a campaign's figures from a throwaway page of the same context, until `predicate`
 * holds or `timeoutMs` passes (public pages are cached up to PAGE_CACHE_SECONDS, 5 s by
 * default, and money moves only when the sandbox's webhook arrives).
 */
async function pollCampaignFigures(context, slug, predicate, timeoutMs = 30_000) {
  const page = await context.newPage();
  const deadline = Date.now() + timeoutMs;
  let last;
  try {
    for (;;) {
      await page.goto(url(`/campagnes/${slug}`), { waitUntil: "domcontentloaded" });
      last = await campaignFigures(page);
      if (predicate(last)) return last;
      if (Date.now() > deadline) return last;
      await page.waitForTimeout(1000);
    }
  } finally {
    await page.close();
  }
}

async function readCampaignFigures(context, slug) {
  return pollCampaignFigures(context, slug, () => true, 0);
}

/** Fills the donor's identity on the donation form (JavaScript or not: plain fills). */
async function fillDonor(page, d) {
  for (const name of DONOR_FIELDS) {
    await page.locator(`form.donate-form #${name}`).fill(d[name]);
  }
  await page.locator("form.donate-form #country").selectOption("FR");
}

/** The form's entries as they are now, to compare after a way back. */
async function formEntries(page) {
  const out = {};
  for (const name of DONOR_FIELDS) out[name] = await page.locator(`form.donate-form #${name}`).inputValue();
  return out;
}

async function assertEntriesKept(page, d, why) {
  const kept = await formEntries(page);
  const expected = Object.fromEntries(DONOR_FIELDS.map((k) => [k, d[k]]));
  assert.deepEqual(kept, expected, `${why}: the donor's entries should be kept on the form`);
}

/** The amount ticked on the form for the frequency ticked: `{ frequency, value }`. */
async function tickedAmount(page) {
  return page.evaluate(() => {
    const f = document.querySelector('form.donate-form input[name="frequency"]:checked');
    if (!f) return { frequency: null, value: null };
    const a = document.querySelector(`form.donate-form input[name="amount_${f.value}"]:checked`);
    return { frequency: f.value, value: a ? a.value : null };
  });
}

/**
 * Submits the donation form with `submit()` (a click, Enter…) and waits for the sandbox's
 * checkout page. Obole limits checkouts per client address (CHECKOUT_RATE_PER_MINUTE, 10 by
 * default): when it answers 429 with Retry-After, this waits that long (at most 70 s) and
 * submits again — the form keeps the entries.
 */
async function submitToCheckout(visit, submit) {
  const page = visit.page;
  for (let attempt = 0; attempt < 3; attempt++) {
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST" && /\/campagnes\/[^/]+\/don$/.test(new URL(r.url()).pathname)),
      submit(),
    ]);
    if (response.status() === 429) {
      const wait = Math.min(Number(response.headers()["retry-after"] || 60), 70);
      visit.log(`checkout rate limit reached (429): waiting ${wait} s as Retry-After says, then submitting again`);
      await page.waitForLoadState("load");
      await page.waitForTimeout(wait * 1000 + 500);
      continue;
    }
    if (response.status() >= 400) {
      await page.waitForLoadState("load");
      const alerts = await page.locator("[role=alert]").allTextContents();
      throw new Error(`the form answered HTTP ${response.status()} instead of going to the checkout: ${alerts.join(" / ").replace(/\s+/g, " ")}`);
    }
    await page.waitForURL(/\/sandbox\/checkout\//);
    await page.locator(".sb-choices").waitFor();
    return new URL(page.url()).pathname.split("/").pop();
  }
  throw new Error("the checkout rate limit never let this gift through");
}

/** The checkout's outcome buttons (sandbox): card, card_declined, card_renewal_fails, sepa, sepa_fails. */
function outcomeButton(page, outcome) {
  return page.locator(`.sb-choices button[name="outcome"][value="${outcome}"]`);
}

/**
 * On /merci: waits until the page says « Don confirmé ». With JavaScript, static/thanks.js
 * must update the page in place: a marker set on `window` must survive (no reload, no
 * navigation). Without JavaScript, the donor follows « Actualiser la page ».
 */
async function waitForConfirmed(visit, { timeoutMs = 30_000 } = {}) {
  const page = visit.page;
  await page.waitForURL(/\/merci\?/);
  const eyebrow = page.locator(".thanks .eyebrow").first();
  const first = (await eyebrow.textContent()).trim();
  if (first === "Don confirmé") {
    visit.log(
      visit.javaScriptEnabled
        ? "/merci was already confirmed on arrival: its in-place update (static/thanks.js) was not exercised this time"
        : "/merci was already confirmed on arrival: its « Actualiser la page » link was not needed this time",
    );
    return { inPlace: null };
  }
  assert.equal(first, "Paiement en cours de confirmation", `/merci should say « Don confirmé » or « Paiement en cours de confirmation », not « ${first} »`);
  if (visit.javaScriptEnabled) {
    await page.evaluate(() => {
      window.__oboleE2eSameDocument = true;
    });
    const navigations = [];
    const onNav = (frame) => {
      if (frame === page.mainFrame()) navigations.push(frame.url());
    };
    page.on("framenavigated", onNav);
    try {
      await page.locator(".thanks .eyebrow", { hasText: "Don confirmé" }).waitFor({ timeout: timeoutMs });
    } catch {
      throw new Error(`/merci still says « ${(await eyebrow.textContent().catch(() => "?")).trim()} » after ${timeoutMs / 1000} s: the webhook did not confirm the gift, or static/thanks.js did not update the page`);
    } finally {
      page.off("framenavigated", onNav);
    }
    const same = await page.evaluate(() => window.__oboleE2eSameDocument === true);
    assert.ok(
      same && navigations.length === 0,
      `/merci reached « Don confirmé » by reloading (${navigations.join(", ") || "document replaced"}) instead of updating itself in place through static/thanks.js`,
    );
    const announced = (await page.locator("#thanks-status").textContent().catch(() => "")) || "";
    assert.match(announced, /Don confirmé/, "the status region #thanks-status should announce « Don confirmé » to screen readers");
    return { inPlace: true };
  }
  // Without JavaScript: the page offers a link that reloads it.
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = (await page.locator(".thanks .eyebrow").first().textContent()).trim();
    if (now === "Don confirmé") return { inPlace: false };
    if (Date.now() > deadline) throw new Error(`/merci still says « ${now} » after ${timeoutMs / 1000} s without JavaScript`);
    await page.waitForTimeout(1500);
    const refresh = page.locator(".thanks [data-poll], .thanks a", { hasText: /Actualiser|recharger/ }).first();
    if (await refresh.count()) {
      await Promise.all([page.waitForNavigation({ waitUntil: "load" }), refresh.click()]);
    } else {
      await page.reload({ waitUntil: "load" });
    }
  }
}

/** The outbox's list: `[{ id, subject, to }]`, newest first. */
async function outboxList(request) {
  const response = await request.get(url("/demo/emails"), { headers: { accept: "application/json, text/html" } });
  assert.ok(response.ok(), `/demo/emails answered HTTP ${response.status()} (is Obole in demo mode without SMTP_URL?)`);
  const type = response.headers()["content-type"] || "";
  if (type.includes("json")) {
    const data = await response.json();
    const list = Array.isArray(data) ? data : data.emails || data.messages || [];
    return list.map((m) => ({ id: m.id ?? m.job_id, subject: m.subject, to: m.to, text: m.text }));
  }
  const html = await response.text();
  const out = [];
  const re = /<a href="\/demo\/emails\/(\d+)">([^<]*)<\/a>\s*<span class="muted">à ([^,<]*),/g;
  for (let m; (m = re.exec(html)); ) out.push({ id: m[1], subject: decode(m[2]), to: decode(m[3]) });
  return out;
}

function decode(html) {
  return html
    .replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_, n) => String.fromCharCode(parseInt(n, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

/** The plain-text part of one outbox email. */
async function outboxText(request, message) {
  if (message.text) return message.text;
  const response = await request.get(url(`/demo/emails/${message.id}`), { headers: { accept: "application/json, text/html" } });
  assert.ok(response.ok(), `/demo/emails/${message.id} answered HTTP ${response.status()}`);
  const type = response.headers()["content-type"] || "";
  if (type.includes("json")) return (await response.json()).text;
  const html = await response.text();
  const m = /<pre class="outbox__text">([\s\S]*?)<\/pre>/.exec(html);
  assert.ok(m, `/demo/emails/${message.id} has no text part (pre.outbox__text)`);
  return decode(m[1]);
}

/** Waits for an email to `to` whose text contains a link matching `linkPattern`; returns the link. */
async function waitForEmailLink(request, to, linkPattern, { timeoutMs = 30_000, ignore = new Set() } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = await outboxList(request);
    for (const message of list.filter((m) => m.to.includes(to) && !ignore.has(String(m.id)))) {
      const text = await outboxText(request, message);
      const link = text.match(linkPattern);
      if (link) return { link: link[0], message };
    }
    if (Date.now() > deadline) {
      const mine = list.filter((m) => m.to.includes(to)).map((m) => `« ${m.subject} »`);
      throw new Error(`no email to ${to} with a link like ${linkPattern} in /demo/emails after ${timeoutMs / 1000} s (emails to that address: ${mine.join(", ") || "none"})`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** The donation list rows of « Mon espace » (first page). */
async function spaceDonations(page) {
  return page.locator("table.space__donations tbody tr").evaluateAll((rows) =>
    rows.map((r) => ({
      campaign: r.querySelector(".what")?.textContent.trim(),
      amount: r.querySelector(".number")?.textContent.trim(),
      frequency: r.querySelector(".often")?.textContent.trim(),
      status: r.querySelector(".state")?.textContent.trim(),
    })),
  );
}

/**
 * Presses Tab until the focused element matches `selector` (at most `max` times): proves the
 * element is reachable with the keyboard, in order.
 */
async function tabTo(page, selector, { max = 80, shift = false, what = selector } = {}) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(shift ? "Shift+Tab" : "Tab");
    const hit = await page.evaluate((sel) => {
      const el = document.activeElement;
      return !!el && el !== document.body && el.matches(sel);
    }, selector);
    if (hit) return i + 1;
  }
  const focused = await page.evaluate(() => {
    const el = document.activeElement;
    return el ? el.outerHTML.slice(0, 120) : "nothing";
  });
  throw new Error(`${what} (${selector}) was not reached with ${max} presses of ${shift ? "Shift+Tab" : "Tab"}; focus ended on ${focused}`);
}

/** Whether the focused element shows where the focus is (an outline or a box-shadow). */
async function focusVisible(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return false;
    const s = getComputedStyle(el);
    const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0;
    return outline || (s.boxShadow && s.boxShadow !== "none");
  });
}

module.exports = {
  euroCents,
  euros,
  donor,
  DONOR_FIELDS,
  url,
  goto,
  campaignFigures,
  pollCampaignFigures,
  readCampaignFigures,
  fillDonor,
  formEntries,
  assertEntriesKept,
  tickedAmount,
  submitToCheckout,
  outcomeButton,
  waitForConfirmed,
  outboxList,
  outboxText,
  waitForEmailLink,
  spaceDonations,
  tabTo,
  focusVisible,
};
