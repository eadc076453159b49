"use strict";
// How many bytes a page costs to load, measured by Chromium itself (DevTools protocol): the
// bytes received for each request (headers and the body as sent, compressed if it was),
// with the browser cache off. Images are counted apart: the budget is for the rest.
const { url } = require("./obole");

/**
 * Loads `path` in a new page of `context` and returns
 * `{ total, images, requests: [{ url, type, bytes, bodyBytes }] }` where `total` excludes images.
 */
async function pageWeight(context, path) {
  const page = await context.newPage();
  const client = await context.newCDPSession(page);
  await client.send("Network.enable");
  await client.send("Network.setCacheDisabled", { cacheDisabled: true });
  const requests = new Map();
  client.on("Network.responseReceived", (e) => {
    requests.set(e.requestId, { url: e.response.url, type: e.type, mime: e.response.mimeType, bytes: 0 });
  });
  client.on("Network.loadingFinished", (e) => {
    const r = requests.get(e.requestId);
    if (r) r.bytes = e.encodedDataLength;
  });
  const bodies = new Map();
  page.on("response", async (response) => {
    try {
      const body = await response.body();
      bodies.set(response.url(), body.length);
    } catch {
      /* redirects have no body */
    }
  });
  try {
    await page.goto(url(path), { waitUntil: "load" });
    await page.waitForLoadState("networkidle");
    const list = [...requests.values()].map((r) => ({
      url: r.url.replace(url(""), ""),
      type: r.type,
      bytes: r.bytes,
      bodyBytes: bodies.get(r.url) ?? null,
      image: r.type === "Image" || /^image\//.test(r.mime || ""),
    }));
    const total = list.filter((r) => !r.image).reduce((s, r) => s + r.bytes, 0);
    const images = list.filter((r) => r.image).reduce((s, r) => s + r.bytes, 0);
    return { total, images, requests: list };
  } finally {
    await client.detach().catch(() => {});
    await page.close();
  }
}

function describeWeight(w) {
  return w.requests
    .filter((r) => !r.image)
    .map((r) => `${r.url} ${r.type} ${(r.bytes / 1024).toFixed(1)} KB transferred${r.bodyBytes != null ? ` (${(r.bodyBytes / 1024).toFixed(1)} KB body)` : ""}`)
    .join("; ");
}

module.exports = { pageWeight, describeWeight };
