/**
 * Firefox end to end over WebDriver BiDi (puppeteer-core, Debian firefox-esr, no geckodriver):
 * install the test copy, save the options (granting the optional host permission with a real
 * click), test the connection, then right-click an image on a local page and activate the
 * real "Check with authcheck" menu item through the chrome scope. The click gives the
 * activeTab grant, so the check carries a real screenshot; the verdict badge must appear next
 * to the image. Every wait is on an event or a DOM condition.
 *
 * Driven by tests/extension/test_firefox.py, or by hand with these variables set:
 *   AUTHCHECK_URL    the server (reached through CORS: not covered by a host permission)
 *   AUTHCHECK_TOKEN  a journalist's API token
 *   SITE_URL         the test page with <img id="photo">
 *   EXT_DIR          the Firefox test copy (dist/firefox of a --test-host build)
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import puppeteer from "puppeteer-core";

const { AUTHCHECK_URL, AUTHCHECK_TOKEN, SITE_URL, EXT_DIR } = process.env;
const FIREFOX = process.env.FIREFOX || "/usr/bin/firefox-esr";
const EXTENSION_ID = "authcheck@authcheck.invalid";
// Fixing the extension's internal UUID fixes its moz-extension:// origin for the test.
const UUID = "5b0c4f3e-6d1a-4c2b-9e8f-7a6b5c4d3e2f";
const ORIGIN = `moz-extension://${UUID}`;
const VERDICT_TIMEOUT_MS = 180_000;

let browser;
let page;

async function navigate(url) {
  // page.goto() never resolves for moz-extension:// pages; the raw BiDi command does.
  await browser.connection.send("browsingContext.navigate", {
    context: page.mainFrame()._id,
    url,
    wait: "complete",
  });
}

async function chromeContext() {
  const { result } = await browser.connection.send("browsingContext.getTree", {
    "moz:scope": "chrome",
  });
  return result.contexts[0].context;
}

async function inChrome(context, expression) {
  const { result } = await browser.connection.send("script.evaluate", {
    expression,
    target: { context },
    awaitPromise: true,
    resultOwnership: "none",
  });
  if (result.type === "exception") throw new Error(result.exceptionDetails.text);
  return result.result.value;
}

async function api(path) {
  const response = await fetch(`${AUTHCHECK_URL}/api/v1/${path}`, {
    headers: { Authorization: `Bearer ${AUTHCHECK_TOKEN}` },
  });
  assert.equal(response.status, 200);
  return response.json();
}

before(async () => {
  for (const [name, value] of Object.entries({
    AUTHCHECK_URL,
    AUTHCHECK_TOKEN,
    SITE_URL,
    EXT_DIR,
  })) {
    assert.ok(value, `${name} must be set`);
  }
  browser = await puppeteer.launch({
    browser: "firefox",
    executablePath: FIREFOX,
    headless: true,
    args: ["--remote-allow-system-access"],
    extraPrefsFirefox: {
      "extensions.webextensions.uuids": JSON.stringify({ [EXTENSION_ID]: UUID }),
      "extensions.webextOptionalPermissionPrompts": false,
    },
  });
  await browser.installExtension(EXT_DIR);
  page = await browser.newPage();
});

after(async () => {
  await browser?.close();
});

test("the options page saves, grants the server origin on click, and tests the connection", async () => {
  await navigate(`${ORIGIN}/src/options/options.html`);
  await page.waitForSelector("#server_url");
  await page.type("#server_url", AUTHCHECK_URL);
  await page.type("#token", AUTHCHECK_TOKEN);
  await page.click("#grant");
  await page.click("#save");
  await page.waitForFunction(() => document.querySelector("#status").dataset.tone === "good");
  const granted = await page.evaluate(
    (server) => chrome.permissions.contains({ origins: [`${new URL(server).origin}/*`] }),
    AUTHCHECK_URL,
  );
  assert.equal(granted, true);
  const stored = await page.evaluate(async () => ({
    local: (await chrome.storage.local.get("settings")).settings,
    sync: await chrome.storage.sync.get(null),
  }));
  assert.equal(stored.local.token, AUTHCHECK_TOKEN);
  assert.deepEqual(stored.sync, {}, "the token never goes to sync storage");
  await page.click("#test");
  await page.waitForFunction(() =>
    document.querySelector("#status").textContent.startsWith("Connected as"),
  );
  const status = await page.$eval("#status", (el) => el.textContent);
  assert.match(status, /^Connected as jo \(journalist\)/);
});

test("a real context-menu click on an image checks it and badges it", async () => {
  await page.goto(SITE_URL, { waitUntil: "load" });
  const chrome = await chromeContext();
  // Listen before the right-click so the popupshown event cannot be missed.
  await inChrome(
    chrome,
    `window.__authcheckMenu = new Promise((resolve) => {
       const menu = document.getElementById("contentAreaContextMenu");
       menu.addEventListener("popupshown", () => resolve(true), { once: true });
     }); true`,
  );
  await page.click("#photo", { button: "right" });
  const label = await inChrome(
    chrome,
    `(async () => {
       await window.__authcheckMenu;
       const menu = document.getElementById("contentAreaContextMenu");
       const item = [...menu.querySelectorAll("menuitem")].find((i) => i.label === "Check with authcheck");
       if (!item) return "missing";
       menu.activateItem(item);
       return item.label;
     })()`,
  );
  assert.equal(label, "Check with authcheck");

  await page.waitForFunction(
    () => document.querySelector("#photo").nextElementSibling?.localName === "authcheck-badge",
    { timeout: VERDICT_TIMEOUT_MS },
  );
  const fromPage = await page.evaluate(() => {
    const host = document.querySelector("#photo").nextElementSibling;
    return { shadow: host.shadowRoot, attrs: host.attributes.length, text: host.textContent };
  });
  assert.deepEqual(fromPage, { shadow: null, attrs: 0, text: "" });

  const { results } = await api("checks?limit=1");
  const check = await api(`checks/${results[0].id}`);
  assert.equal(check.status, "done");
  assert.equal(check.verdict.label, "no_provenance");
  assert.equal(check.client, "extension");
  assert.equal(check.source.element, "image");
  assert.equal(check.source.page_url, SITE_URL);
  assert.equal(check.source.page_title, "Flood in town");
  // The real click's grant lets the background capture the visible tab at that moment.
  assert.match(check.evidence.screenshot.sha256, /^[0-9a-f]{64}$/);
  assert.equal(check.evidence.screenshot.mime, "image/jpeg");
  assert.ok(check.evidence.screenshot.width > 0);
  assert.equal(check.evidence.media.tag, "img");
});
