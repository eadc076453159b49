"use strict";
// Declares a journey as node:test tests, one per viewport, each in a fresh browser context.
const { describe, test, after } = require("node:test");
const { Visit, closeBrowser } = require("./visit");
const { VIEWPORTS } = require("./env");

/**
 * @param {string} name e.g. "J1 one-off gift"
 * @param {(visit: Visit, t: import('node:test').TestContext) => Promise<void>} body
 * @param {{ viewports?: object[], javaScriptEnabled?: boolean, skip?: string|false }} [options]
 */
function journey(name, body, { viewports = [VIEWPORTS.phone, VIEWPORTS.laptop], javaScriptEnabled = true, skip = false } = {}) {
  describe(name, () => {
    after(closeBrowser);
    for (const viewport of viewports) {
      const title = `${viewport.name} ${viewport.width}×${viewport.height}${javaScriptEnabled ? "" : ", JavaScript off"}`;
      test(title, { skip }, async (t) => {
        const visit = new Visit({ journey: name, viewport, javaScriptEnabled, t });
        await visit.open();
        const started = Date.now();
        try {
          await body(visit, t);
        } catch (error) {
          await visit.close();
          throw error;
        }
        visit.log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        await visit.finish();
      });
    }
  });
}

module.exports = { journey, VIEWPORTS };
