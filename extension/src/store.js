/**
 * Extension state, all in `storage.local` (never `sync`: the token stays on this machine). The
 * background may be stopped at any time, so nothing lives in globals: the settings and the
 * checks being followed are read from storage each time.
 */

const SETTINGS_KEY = "settings";
const CHECKS_KEY = "checks";
const MAX_CHECKS = 50;

export const DEFAULT_SETTINGS = Object.freeze({
  serverUrl: "",
  token: "",
  evidence: true,
  badges: true,
});

/** The settings, with defaults for what was never saved. */
export async function getSettings() {
  const stored = (await chrome.storage.local.get(SETTINGS_KEY))[SETTINGS_KEY] || {};
  return { ...DEFAULT_SETTINGS, ...stored };
}

/** Merge `changes` into the settings. */
export async function saveSettings(changes) {
  const current = await getSettings();
  await chrome.storage.local.set({ [SETTINGS_KEY]: { ...current, ...changes } });
}

/** The recent checks, newest first (what the popup lists). */
export async function listChecks() {
  return (await chrome.storage.local.get(CHECKS_KEY))[CHECKS_KEY] || [];
}

/** Insert or update one check (by id); keeps the newest `MAX_CHECKS`. */
export async function putCheck(entry) {
  const checks = await listChecks();
  const index = checks.findIndex((c) => c.id === entry.id);
  if (index >= 0) checks[index] = { ...checks[index], ...entry };
  else checks.unshift(entry);
  await chrome.storage.local.set({ [CHECKS_KEY]: checks.slice(0, MAX_CHECKS) });
  return checks.find((c) => c.id === entry.id);
}

/** One stored check, or undefined. */
export async function getCheckEntry(id) {
  return (await listChecks()).find((c) => c.id === id);
}

/** Fire `listener(checks)` whenever the stored checks change (popup live status). */
export function onChecksChanged(listener) {
  chrome.storage.onChanged.addListener((changes, area) => {
    if (area === "local" && changes[CHECKS_KEY]) listener(changes[CHECKS_KEY].newValue || []);
  });
}
