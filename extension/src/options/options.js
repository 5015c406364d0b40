/**
 * Options: server address, token (storage.local only), evidence and badge switches, an
 * optional host permission for the server, and "Test connection" (GET /api/v1/me).
 */
import { ask, localize, t } from "../i18n.js";

const form = document.getElementById("settings");
const status = document.getElementById("status");

function say(text, tone = "") {
  status.textContent = text;
  status.dataset.tone = tone;
}

async function load() {
  localize();
  const settings = await ask({ type: "settings:get" });
  form.server_url.value = settings.serverUrl;
  form.evidence.checked = settings.evidence;
  form.badges.checked = settings.badges;
}

function values() {
  return {
    serverUrl: form.server_url.value.trim(),
    token: form.token.value.trim(),
    evidence: form.evidence.checked,
    badges: form.badges.checked,
  };
}

/** The optional host permission for the server; must run inside the click (a user gesture). */
function requestGrant(serverUrl) {
  if (!form.grant.checked || !serverUrl) return Promise.resolve(true);
  let origin;
  try {
    origin = new URL(serverUrl).origin;
  } catch {
    return Promise.resolve(false);
  }
  return chrome.permissions.request({ origins: [`${origin}/*`] });
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const changes = values();
  const granted = requestGrant(changes.serverUrl); // started before any await: keeps the gesture
  try {
    await ask({ type: "settings:save", ...changes });
    await granted;
    form.token.value = "";
    say(t("optionsSaved"), "good");
  } catch (error) {
    say(error.message, "bad");
  }
});

document.getElementById("test").addEventListener("click", async () => {
  say(t("optionsTesting"));
  const { serverUrl, token } = values();
  try {
    const who = await ask({ type: "connection:test", serverUrl, token });
    const line = t("optionsConnected", [who.user, who.role, who.tokenName || "-"]);
    say(
      who.canSubmit ? line : `${line} ${t("optionsCannotSubmit")}`,
      who.canSubmit ? "good" : "bad",
    );
  } catch (error) {
    say(error.message, "bad");
  }
});

load();
