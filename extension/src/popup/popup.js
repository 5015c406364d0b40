/**
 * The popup: media found on the current page (scanned only now that the popup is open), a
 * local file upload, and the recent checks with live status. No page can reach this view, so
 * the verdict shown here is the authoritative one.
 */
import { describeError, reportUrl, uploadCheck } from "../api.js";
import { ask, localize, t } from "../i18n.js";
import { getSettings, onChecksChanged } from "../store.js";
import { badgeFor } from "../verdict.js";

const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  Object.assign(node, props);
  node.append(...children);
  return node;
};

function say(text, tone = "") {
  const message = document.getElementById("message");
  message.textContent = text;
  message.dataset.tone = tone;
}

async function activeTab() {
  const [tab] = await chrome.tabs.query({ active: true, currentWindow: true });
  return tab;
}

function thumbnail(entry) {
  if (!entry.thumbnail) return el("span", { className: "thumb" });
  // No referrer: the media's site learns nothing about who looks at it from here.
  return el("img", {
    className: "thumb",
    src: entry.thumbnail,
    alt: "",
    referrerPolicy: "no-referrer",
  });
}

function mediaRow(entry, tab) {
  const size = entry.width && entry.height ? ` · ${entry.width}×${entry.height}` : "";
  const label = entry.pageOnly ? t("popupStreamed") : entry.url;
  const what = el("span", { className: "what", title: label }, `${entry.kind}${size} · ${label}`);
  const button = el("button", { type: "button" }, t("popupCheck"));
  button.addEventListener("click", async () => {
    button.disabled = true;
    const body = { element: entry.kind, page_url: tab.url, page_title: tab.title };
    if (entry.pageOnly) body.page_only = true;
    else body.url = entry.url;
    try {
      const { id } = await ask({ type: "check:submit", body, tabId: tab.id });
      say(t("popupSent", [String(id)]));
    } catch (error) {
      say(error.message, "bad");
      button.disabled = false;
    }
  });
  return el("li", {}, thumbnail(entry), what, button);
}

async function showMedia() {
  const list = document.getElementById("media");
  const tab = await activeTab();
  let entries;
  try {
    ({ media: entries } = await ask({ type: "page:scan", tabId: tab.id }));
  } catch {
    list.replaceChildren(el("li", {}, t("popupCannotScan")));
    return;
  }
  const rows = entries.map((e) => mediaRow(e, tab));
  list.replaceChildren(...(rows.length ? rows : [el("li", {}, t("popupNoMedia"))]));
}

function checkRow(check, serverUrl) {
  const badge = badgeFor(check, t);
  const name = check.pageTitle || check.url || check.pageUrl || `#${check.id}`;
  const tag = el("span", { className: "badge", title: badge.explanation }, badge.text);
  tag.dataset.tone = badge.tone;
  const link = el(
    "a",
    { href: reportUrl(serverUrl, check.id), target: "_blank", rel: "noopener" },
    t("popupReport"),
  );
  return el(
    "li",
    {},
    el("span", { className: "what", title: name }, `#${check.id} ${name}`),
    tag,
    link,
  );
}

async function showChecks(checks) {
  const { serverUrl } = await getSettings();
  const list = document.getElementById("checks");
  const rows = serverUrl ? checks.map((c) => checkRow(c, serverUrl)) : [];
  list.replaceChildren(...(rows.length ? rows : [el("li", {}, t("popupNoChecks"))]));
}

document.getElementById("upload").addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = document.getElementById("file").files[0];
  if (!file) return;
  try {
    const check = await uploadCheck(await getSettings(), file, {
      client: "extension",
      element: "file",
    });
    await ask({ type: "check:track", id: check.id });
    say(t("popupSent", [String(check.id)]));
  } catch (error) {
    say(describeError(error, t), "bad");
  }
});

document
  .getElementById("options")
  .addEventListener("click", () => chrome.runtime.openOptionsPage());

localize();
onChecksChanged(showChecks);
ask({ type: "checks:list" }).then(({ checks }) => showChecks(checks));
showMedia();
