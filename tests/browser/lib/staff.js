"use strict";
// The back-office account J6 signs in with: OBOLE_ADMIN_EMAIL and OBOLE_ADMIN_PASSWORD when
// given; else, when OBOLE_BIN and DATABASE_URL (the server's) are set, one created with
// `obole create-staff` (password on standard input, as the README says); else none.
const { execFileSync } = require("node:child_process");
const { env } = require("./env");

/** `{ email, password }`, or `{ skip: reason }`. */
function staffAccount() {
  if (env.adminEmail && env.adminPassword) return { email: env.adminEmail, password: env.adminPassword };
  if (!env.oboleBin || !env.databaseUrl) {
    return {
      skip: "no back-office account: set OBOLE_ADMIN_EMAIL and OBOLE_ADMIN_PASSWORD, or OBOLE_BIN and DATABASE_URL (the server's) so that the suite creates one with `obole create-staff`",
    };
  }
  const email = `e2e-admin-${env.runId}@example.org`;
  const password = `e2e-${env.runId}-long-password`;
  execFileSync(env.oboleBin, ["create-staff", "--email", email, "--role", "admin"], {
    input: password + "\n",
    env: { ...process.env, DATABASE_URL: env.databaseUrl },
    stdio: ["pipe", "pipe", "pipe"],
    timeout: 60_000,
  });
  return { email, password };
}

module.exports = { staffAccount };
