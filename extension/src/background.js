/**
 * The background (service worker in Chromium, event page in Firefox): the one message router,
 * the context menu, and the follower of submitted checks. It may be stopped at any time: every
 * check being followed lives in storage and following resumes when the worker starts again.
 * Nothing is sent unless the user clicked.
 */

import * as api from "./api.js";
import { backoffDelay, isFinished } from "./backoff.js";
import { inspectClicked, normalizeMedia, scanPage } from "./discover.js";
import * as store from "./store.js";
import { submissionFor, unsendableReason } from "./submission.js";
import { badgeFor } from "./verdict.js";

const MENU_ID = "authcheck-check";
const MENU_CONTEXTS = ["image", "video", "audio", "link", "page"];
// A screenshot must fit the server's evidence cap (700 KiB decoded, base64 in a 1 MB body).
const SCREENSHOT_MAX_CHARS = 900 * 1024;
const SCREENSHOT_QUALITIES = [70, 45, 25];
const BADGE_SCRIPT = "src/content/badge.js";
// A worker (or event page) idle for about 30 s is stopped, timers and all: while checks are
// unfinished an alarm wakes it to resume following them from storage.
const RESUME_ALARM = "authcheck-resume";
const RESUME_PERIOD_MINUTES = 0.5;

const t = (key, subs) => chrome.i18n.getMessage(key, subs) || key;
// Loops running in this worker instance, so one check is not polled twice; lost on eviction,
// which is fine: `resumeFollowing` restarts them from storage.
const following = new Set();

// --- context menu --------------------------------------------------------------------------

function createMenu() {
  chrome.contextMenus.removeAll(() => {
    chrome.contextMenus.create({ id: MENU_ID, title: t("menuCheck"), contexts: MENU_CONTEXTS });
  });
}

chrome.runtime.onInstalled.addListener(createMenu);
chrome.runtime.onStartup?.addListener(resumeFollowing);
chrome.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === RESUME_ALARM) resumeFollowing();
});

chrome.contextMenus.onClicked.addListener((info, tab) => {
  if (info.menuItemId !== MENU_ID) return;
  checkFromContextMenu(info, tab).catch((error) => notifyError(error));
});

async function inspect(tab, info) {
  if (!info.srcUrl || tab?.id === undefined) return null;
  try {
    const [result] = await chrome.scripting.executeScript({
      target: { tabId: tab.id, frameIds: [info.frameId ?? 0] },
      func: inspectClicked,
      args: [info.srcUrl],
    });
    return result?.result ?? null;
  } catch {
    return null; // no access to this frame: the check goes ahead without element details
  }
}

async function captureScreenshot(tab) {
  for (const quality of SCREENSHOT_QUALITIES) {
    try {
      const shot = await chrome.tabs.captureVisibleTab(tab.windowId, { format: "jpeg", quality });
      if (shot.length <= SCREENSHOT_MAX_CHARS) return shot;
    } catch {
      return null; // protected page or no grant: evidence without a screenshot
    }
  }
  return null;
}

/**
 * What a click on "Check with authcheck" does: look at the clicked element, take the
 * click-time evidence, submit, follow. Returns the new check's id. Exposed on
 * `globalThis.authcheck` so a test can drive exactly this path.
 */
async function checkFromContextMenu(info, tab) {
  const config = await store.getSettings();
  if (!config.serverUrl || !config.token) throw new api.ApiError("not_configured");
  const details = await inspect(tab, info);
  const screenshot = config.evidence ? await captureScreenshot(tab) : null;
  const body = submissionFor(info, tab, { details, screenshot, includeEvidence: config.evidence });
  const reason = unsendableReason(body);
  if (reason) throw new api.ApiError("validation_error", t(reason));
  const check = await submit(config, body);
  await store.putCheck({
    ...entryFor(check),
    tabId: tab?.id ?? null,
    frameId: info.frameId ?? 0,
    srcUrl: info.srcUrl || "",
    attempt: 0,
  });
  follow(check.id);
  return check.id;
}

async function submit(config, body) {
  try {
    return await api.createCheck(config, body);
  } catch (error) {
    // The evidence is optional: a screenshot the server refuses must not lose the check.
    const refused = ["evidence_too_large", "evidence_invalid", "request_too_large"];
    if (!body.evidence?.screenshot || !refused.includes(error.code)) throw error;
    const { screenshot: _dropped, ...evidence } = body.evidence;
    return api.createCheck(config, { ...body, evidence });
  }
}

function entryFor(check) {
  return {
    id: check.id,
    status: check.status,
    verdict: check.verdict,
    error: check.error,
    element: check.source?.element || "",
    pageUrl: check.source?.page_url || "",
    pageTitle: check.source?.page_title || "",
    url: check.source?.url || check.source?.filename || "",
    pageOnly: Boolean(check.source?.page_only),
  };
}

/**
 * The media of a tab for the popup: scanned only now (the popup was opened, which grants
 * activeTab), normalised in the extension. Also on `globalThis.authcheck` for tests.
 */
async function scanTab(tab) {
  const [result] = await chrome.scripting.executeScript({
    target: { tabId: tab.id },
    func: scanPage,
  });
  return normalizeMedia(result?.result);
}

// --- following checks ----------------------------------------------------------------------

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function follow(id) {
  if (following.has(id)) return;
  following.add(id);
  try {
    if (!(await chrome.alarms.get(RESUME_ALARM))) {
      await chrome.alarms.create(RESUME_ALARM, { periodInMinutes: RESUME_PERIOD_MINUTES });
    }
    await pollUntilFinished(id);
  } finally {
    following.delete(id);
    if (following.size === 0) await resumeFollowing(); // clears the alarm when all are done
  }
}

async function pollUntilFinished(id) {
  for (;;) {
    const entry = await store.getCheckEntry(id);
    if (!entry || isFinished(entry.status) || entry.stopped) return;
    await sleep(backoffDelay(entry.attempt));
    const config = await store.getSettings();
    let check;
    try {
      check = await api.getCheck(config, id);
    } catch (error) {
      const stop = ["not_found", "not_authenticated", "authentication_failed", "not_configured"];
      // A refused token or a vanished check will not come right by polling: stop until the
      // user acts (a new check or the popup retries nothing by itself).
      const stopped = stop.includes(error.code);
      await store.putCheck({ id, attempt: entry.attempt + 1, lastError: error.code, stopped });
      if (stopped) return;
      continue;
    }
    const updated = await store.putCheck({ ...entryFor(check), attempt: entry.attempt + 1 });
    if (isFinished(check.status)) {
      await announce(updated, config);
      return;
    }
  }
}

/** Restart following every unfinished check (the worker was stopped and started again);
 * keep the wake-up alarm exactly while some check is unfinished. */
async function resumeFollowing() {
  const unfinished = (await store.listChecks()).filter(
    (entry) => !isFinished(entry.status) && !entry.stopped,
  );
  if (unfinished.length === 0) {
    await chrome.alarms.clear(RESUME_ALARM);
    return;
  }
  if (!(await chrome.alarms.get(RESUME_ALARM))) {
    await chrome.alarms.create(RESUME_ALARM, { periodInMinutes: RESUME_PERIOD_MINUTES });
  }
  for (const entry of unfinished) follow(entry.id);
}

async function announce(entry, config) {
  const badge = badgeFor(entry, t);
  chrome.notifications?.create(`authcheck-${entry.id}`, {
    type: "basic",
    iconUrl: chrome.runtime.getURL("icons/icon-128.png"),
    title: t("notifyFinished", [String(entry.id)]),
    message: `${badge.text}. ${badge.explanation}`.slice(0, 250),
  });
  if (config.badges && entry.tabId !== null && entry.srcUrl) await showBadge(entry, badge, config);
}

async function showBadge(entry, badge, config) {
  const target = { tabId: entry.tabId, frameIds: [entry.frameId ?? 0] };
  const data = {
    srcUrl: entry.srcUrl,
    text: badge.text,
    tone: badge.tone,
    explanation: badge.explanation,
    reportUrl: api.reportUrl(config.serverUrl, entry.id),
    reportText: t("badgeReport"),
  };
  try {
    await chrome.scripting.executeScript({ target, files: [BADGE_SCRIPT] });
    await chrome.scripting.executeScript({
      target,
      func: (badgeData) => globalThis.authcheckBadge?.show(badgeData) ?? false,
      args: [data],
    });
  } catch {
    // The tab navigated away or is no longer granted: the popup still shows the verdict.
  }
}

function notifyError(error) {
  const message =
    error?.code === "validation_error" && error.message
      ? error.message
      : api.describeError(error, t);
  chrome.notifications?.create({
    type: "basic",
    iconUrl: chrome.runtime.getURL("icons/icon-128.png"),
    title: t("notifyFailed"),
    message,
  });
}

// --- the message router --------------------------------------------------------------------

/** Only the extension's own pages (popup, options) may send messages; web pages never can. */
function fromOwnPage(sender) {
  return (
    sender?.id === chrome.runtime.id &&
    String(sender.url || "").startsWith(chrome.runtime.getURL(""))
  );
}

const isText = (value, max = 4000) => typeof value === "string" && value.length <= max;

const HANDLERS = {
  async "settings:get"() {
    const { token, ...rest } = await store.getSettings();
    return { ...rest, hasToken: Boolean(token) };
  },
  async "settings:save"(message) {
    const changes = {};
    if (message.serverUrl !== undefined)
      changes.serverUrl = message.serverUrl ? api.normalizeServer(message.serverUrl) : "";
    if (isText(message.token, 200) && message.token) changes.token = message.token.trim();
    for (const flag of ["evidence", "badges"]) {
      if (typeof message[flag] === "boolean") changes[flag] = message[flag];
    }
    await store.saveSettings(changes);
    return { saved: true };
  },
  async "connection:test"(message) {
    const saved = await store.getSettings();
    const config = {
      serverUrl:
        isText(message.serverUrl, 2000) && message.serverUrl ? message.serverUrl : saved.serverUrl,
      token: isText(message.token, 200) && message.token ? message.token.trim() : saved.token,
    };
    const who = await api.me(config);
    return {
      user: who.user,
      role: who.role,
      tokenName: who.token?.name || "",
      canSubmit: who.can_submit,
    };
  },
  async "page:scan"(message) {
    if (!Number.isSafeInteger(message.tabId)) throw new api.ApiError("validation_error");
    const tab = await chrome.tabs.get(message.tabId);
    return { media: await scanTab(tab), pageUrl: tab.url, pageTitle: tab.title };
  },
  async "checks:list"() {
    return { checks: await store.listChecks() };
  },
  async "check:submit"(message) {
    const body = message.body || {};
    const allowed = {
      client: "extension",
      element: ["image", "video", "audio"].includes(body.element) ? body.element : "",
    };
    if (isText(body.page_url) && /^https?:\/\//i.test(body.page_url))
      allowed.page_url = body.page_url;
    if (isText(body.page_title, 500)) allowed.page_title = body.page_title;
    if (body.page_only === true) allowed.page_only = true;
    else if (isText(body.url) && /^https?:\/\//i.test(body.url)) allowed.url = body.url;
    else throw new api.ApiError("validation_error");
    const config = await store.getSettings();
    const check = await api.createCheck(config, allowed);
    // The popup's tab and the element's URL, so the element gets its badge like a menu click.
    const tabId = Number.isSafeInteger(message.tabId) ? message.tabId : null;
    const srcUrl = tabId !== null && allowed.url ? allowed.url : "";
    await store.putCheck({ ...entryFor(check), tabId, frameId: 0, srcUrl, attempt: 0 });
    follow(check.id);
    return { id: check.id };
  },
  async "check:track"(message) {
    if (!Number.isSafeInteger(message.id) || message.id <= 0)
      throw new api.ApiError("validation_error");
    const config = await store.getSettings();
    const check = await api.getCheck(config, message.id);
    await store.putCheck({ ...entryFor(check), tabId: null, srcUrl: "", attempt: 0 });
    follow(check.id);
    return { id: check.id };
  },
};

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  const handler =
    fromOwnPage(sender) &&
    typeof message?.type === "string" &&
    Object.hasOwn(HANDLERS, message.type)
      ? HANDLERS[message.type]
      : null;
  if (!handler) return false;
  handler(message).then(
    (result) => sendResponse({ ok: true, ...result }),
    (error) =>
      sendResponse({
        ok: false,
        code: error?.code || "unreachable",
        message: api.describeError(error, t),
      }),
  );
  return true; // the answer is sent asynchronously
});

// For tests (and the devtools console): the exact path a menu click takes.
globalThis.authcheck = Object.freeze({ checkFromContextMenu, scanTab });

resumeFollowing();
