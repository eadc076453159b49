"use strict";
// What the suite is given by its environment. `.ci/run` (or you) starts Obole in demonstration
// mode and passes its address; nothing here starts or stops a server.
const path = require("node:path");

function baseUrl() {
  const url = process.env.OBOLE_URL;
  if (!url) {
    throw new Error(
      "OBOLE_URL is not set: start Obole in demonstration mode and pass its base URL, e.g. OBOLE_URL=http://127.0.0.1:8099",
    );
  }
  return url.replace(/\/+$/, "");
}

const env = {
  get baseUrl() {
    return baseUrl();
  },
  /** Where screenshots (and failure screenshots) go. */
  artifactsDir: path.resolve(
    __dirname,
    "..",
    process.env.ARTIFACTS_DIR || path.join("..", "..", "target", "browser-artifacts"),
  ),
  chromium: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  headless: process.env.HEADED !== "1",
  /** One id per run, so that donors' emails of two runs against one server never meet. */
  runId: process.env.RUN_ID || Date.now().toString(36),
  /** Back-office account: given, or created with the CLI when OBOLE_BIN and DATABASE_URL are set. */
  adminEmail: process.env.OBOLE_ADMIN_EMAIL || "",
  adminPassword: process.env.OBOLE_ADMIN_PASSWORD || "",
  oboleBin: process.env.OBOLE_BIN || "",
  databaseUrl: process.env.DATABASE_URL || "",
};

/** The viewports every journey runs at, unless it says otherwise. */
const VIEWPORTS = {
  phone: { name: "phone", width: 390, height: 844, isMobile: true, hasTouch: true },
  laptop: { name: "laptop", width: 1366, height: 768, isMobile: false, hasTouch: false },
};

/** Above this, the campaign page is too heavy (bytes transferred, images left out). */
const CAMPAIGN_WEIGHT_BUDGET = 60 * 1024;

module.exports = { env, VIEWPORTS, CAMPAIGN_WEIGHT_BUDGET };
