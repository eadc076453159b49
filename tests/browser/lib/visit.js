"use strict";
// One journey at one viewport: a fresh browser context, its page, named steps whose failures
// say where they happened, and the checks every visited page gets (axe-core, no horizontal
// overflow, screenshots). Page checks are collected rather than thrown at once, so that one
// run reports every page's problems; `finish()` fails the journey if there were any.
const fs = require("node:fs");
const path = require("node:path");
const { chromium } = require("playwright-core");
const axe = require("axe-core");
const { env } = require("./env");

let browserPromise = null;

/** One Chromium per test file (node --test runs each file in its own process). */
function browser() {
  if (!browserPromise) {
    browserPromise = chromium.launch({
      executablePath: env.chromium,
      headless: env.headless,
      // Containers and CI runners often lack the user namespaces Chromium's sandbox needs.
      args: ["--no-sandbox", "--disable-dev-shm-usage"],
    });
  }
  return browserPromise;
}

async function closeBrowser() {
  if (browserPromise) {
    const b = await browserPromise;
    browserPromise = null;
    await b.close();
  }
}

/** Where the page is, for messages: its path and title. */
async function where(page) {
  if (!page || page.isClosed()) return "(no page)";
  let url = page.url();
  try {
    const u = new URL(url);
    url = u.pathname + u.search;
  } catch {
    /* about:blank */
  }
  let title = "";
  try {
    title = await page.title();
  } catch {
    /* navigating */
  }
  return title ? `${url} (« ${title} »)` : url;
}

function slug(text) {
  return text
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

class Visit {
  /**
   * @param {object} o
   * @param {string} o.journey e.g. "J1 one-off gift"
   * @param {object} o.viewport one of VIEWPORTS
   * @param {boolean} [o.javaScriptEnabled]
   * @param {import('node:test').TestContext} [o.t] for diagnostics
   */
  constructor({ journey, viewport, javaScriptEnabled = true, t }) {
    this.journey = journey;
    this.viewport = viewport;
    this.javaScriptEnabled = javaScriptEnabled;
    this.t = t;
    this.problems = [];
    this.pageErrors = [];
    this.currentStep = "";
    this.label = `${journey} · ${viewport.name} ${viewport.width}×${viewport.height}${javaScriptEnabled ? "" : " · JavaScript off"}`;
  }

  async open() {
    const b = await browser();
    this.context = await b.newContext({
      viewport: { width: this.viewport.width, height: this.viewport.height },
      isMobile: this.viewport.isMobile,
      hasTouch: this.viewport.hasTouch,
      deviceScaleFactor: 1,
      javaScriptEnabled: this.javaScriptEnabled,
      locale: "fr-FR",
      timezoneId: "Europe/Paris",
    });
    this.context.setDefaultTimeout(15_000);
    this.context.setDefaultNavigationTimeout(20_000);
    this.page = await this.context.newPage();
    this.page.on("pageerror", (error) => {
      this.pageErrors.push(`${this.page.url()}: ${error.message}`);
    });
    return this.page;
  }

  log(message) {
    const line = `[${this.label}] ${message}`;
    if (this.t) this.t.diagnostic(line);
    else console.log(line);
  }

  /**
   * A named step: its failure says which journey, which viewport, which page and what was
   * expected, and leaves a screenshot named after it.
   */
  async step(description, fn) {
    this.currentStep = description;
    try {
      return await fn(this.page);
    } catch (error) {
      const at = await where(this.page);
      const shot = await this.screenshot(`FAILED-${slug(description).slice(0, 60)}`).catch(() => null);
      const message = [
        `[${this.label}] step « ${description} » failed`,
        `  on page: ${at}`,
        `  ${String(error && error.message ? error.message : error).split("\n").join("\n  ")}`,
        shot ? `  screenshot: ${shot}` : "",
        this.problems.length ? `  page checks failed earlier:\n${this.formatProblems("    ")}` : "",
      ]
        .filter(Boolean)
        .join("\n");
      const wrapped = new Error(message);
      wrapped.stack = message;
      throw wrapped;
    }
  }

  /** A check that failed but need not stop the journey. */
  problem(text) {
    this.problems.push(text);
    this.log(`PROBLEM ${text}`);
  }

  formatProblems(indent = "  ") {
    return this.problems.map((p) => indent + "- " + p.split("\n").join("\n" + indent + "  ")).join("\n");
  }

  async screenshot(name) {
    if (!this.page || this.page.isClosed()) return null;
    fs.mkdirSync(env.artifactsDir, { recursive: true });
    const file = path.join(env.artifactsDir, `${this.viewport.name}${this.javaScriptEnabled ? "" : "-nojs"}-${name}.png`);
    await this.page.screenshot({ path: file, fullPage: true, animations: "disabled" });
    return file;
  }

  /**
   * What every page a journey visits must pass: axe-core (no serious or critical violation)
   * and no horizontal overflow. `screenshot` names a key page to keep.
   */
  async checkPage(name, { screenshot } = {}) {
    const page = this.page;
    await page.waitForLoadState("load");
    const at = await where(page);
    const violations = this.javaScriptEnabled ? await runAxe(page) : await this.axeWithoutScripts();
    for (const v of violations) {
      const targets = v.nodes
        .slice(0, 6)
        .map((n) => {
          const why = n.failureSummary.split("\n").slice(1).map((l) => l.trim()).filter(Boolean);
          const summary = why.length ? ` — ${why[0]}${why.length > 1 ? ` (and ${why.length - 1} more reason(s))` : ""}` : "";
          return `${n.target.join(" ")}${summary}`;
        });
      const more = v.nodes.length > 6 ? ` (+${v.nodes.length - 6} more)` : "";
      this.problems.push(
        `axe ${v.impact} « ${v.id} » on ${name} ${at}: ${v.help}${more}\n` + targets.map((t) => "  at " + t).join("\n"),
      );
    }
    const overflow = await horizontalOverflow(page);
    if (overflow) {
      this.problems.push(
        `horizontal overflow on ${name} ${at}: document is ${overflow.scrollWidth}px wide in a ${overflow.innerWidth}px window` +
          (overflow.culprits.length ? `; widest elements: ${overflow.culprits.join(", ")}` : ""),
      );
    }
    if (screenshot) await this.screenshot(screenshot);
    if (violations.length || overflow) {
      await this.screenshot(`CHECK-FAILED-${slug(name).slice(0, 60)}`).catch(() => {});
      this.log(`${name}: ${violations.length} axe violation(s)${overflow ? ", horizontal overflow" : ""}`);
    }
  }

  /**
   * axe-core needs scripts, which this context forbids: the page's DOM as it is (no script
   * ran) is served again, at its own URL, to a page of a script-enabled context that blocks
   * the site's own scripts; axe runs there, with the same styles and viewport.
   */
  async axeWithoutScripts() {
    const html = await this.page.content();
    const pageUrl = this.page.url();
    if (!this.mirror) {
      const b = await browser();
      this.mirror = await b.newContext({
        viewport: { width: this.viewport.width, height: this.viewport.height },
        isMobile: this.viewport.isMobile,
        hasTouch: this.viewport.hasTouch,
        deviceScaleFactor: 1,
        locale: "fr-FR",
      });
    }
    const mirror = await this.mirror.newPage();
    try {
      await mirror.route("**/*", (route) => {
        const request = route.request();
        if (request.url() === pageUrl && request.resourceType() === "document") {
          return route.fulfill({ status: 200, contentType: "text/html; charset=utf-8", body: html });
        }
        if (request.resourceType() === "script") return route.abort();
        return route.continue();
      });
      await mirror.goto(pageUrl, { waitUntil: "load" });
      return await runAxe(mirror);
    } finally {
      await mirror.close();
    }
  }

  /** Closes the context; fails with every collected problem, if any. */
  async finish() {
    if (this.pageErrors.length) {
      for (const e of this.pageErrors) this.problems.push(`script error: ${e}`);
      this.pageErrors = [];
    }
    await this.close();
    if (this.problems.length) {
      const message = `[${this.label}] ${this.problems.length} page check(s) failed:\n${this.formatProblems()}`;
      const error = new Error(message);
      error.stack = message;
      throw error;
    }
  }

  async close() {
    if (this.mirror) await this.mirror.close().catch(() => {});
    if (this.context) await this.context.close().catch(() => {});
    this.mirror = this.context = null;
  }
}

/** axe-core's violations of impact serious or critical. Evaluated over CDP: the page's CSP does not apply. */
async function runAxe(page) {
  const loaded = await page.evaluate(() => typeof window.axe === "object").catch(() => false);
  if (!loaded) await page.evaluate(axe.source);
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.map(String), failureSummary: n.failureSummary || "" })),
    }));
  });
  return result.filter((v) => v.impact === "serious" || v.impact === "critical");
}

/**
 * `null`, or how wide the document is and which elements stick out. The width allowed is
 * `window.innerWidth`, but never more than the emulated screen's: with mobile emulation a
 * page wider than the screen is zoomed out to fit, and innerWidth grows with it.
 */
async function horizontalOverflow(page) {
  const screen = page.viewportSize();
  return page.evaluate((screenWidth) => {
    const scrollWidth = document.documentElement.scrollWidth;
    const innerWidth = Math.min(window.innerWidth, screenWidth || window.innerWidth);
    if (scrollWidth <= innerWidth) return null;
    const culprits = [];
    const listed = [];
    for (const el of document.body.querySelectorAll("*")) {
      if (listed.some((l) => l.contains(el))) continue;
      const r = el.getBoundingClientRect();
      if (r.right > innerWidth + 1 && r.width > 0) {
        listed.push(el);
        let name = el.tagName.toLowerCase();
        if (el.id) name += "#" + el.id;
        else if (el.classList.length) name += "." + [...el.classList].join(".");
        culprits.push(`${name} (right edge ${Math.round(r.right)}px)`);
        if (culprits.length >= 5) break;
      }
    }
    return { scrollWidth, innerWidth, culprits };
  }, screen ? screen.width : 0);
}

module.exports = { Visit, browser, closeBrowser, where, runAxe, horizontalOverflow };
