/**
 * What a context-menu click sends to `POST /api/v1/checks`. Pure, so tests prove that a
 * streamed video becomes a page-only check and that nothing but what was clicked is sent.
 */

import { elementKind } from "./discover.js";

const HTTP = /^https?:\/\//i;

/**
 * The JSON body for a click. `info` is the menu's OnClickData, `tab` the Tab, `details` what
 * `inspectClicked` saw (or null), `screenshot` a data: URL (or null), `now` the click time.
 * Without `includeEvidence` (switched off in the options) no evidence bundle is sent.
 */
export function submissionFor(
  info,
  tab,
  { details = null, screenshot = null, includeEvidence = true, now = new Date() } = {},
) {
  const element = elementKind(info);
  const pageUrl = info?.pageUrl || info?.frameUrl || tab?.url || "";
  const target = element === "link" ? info.linkUrl : element === "page" ? "" : info.srcUrl || "";
  const streamed = Boolean(details?.streamed) || /^(blob|mediasource):/i.test(target);
  const body = {
    client: "extension",
    element,
    page_url: HTTP.test(pageUrl) ? pageUrl : "",
    page_title: String(tab?.title ?? "").slice(0, 500),
  };
  if (HTTP.test(target) && !streamed) {
    body.url = target;
  } else {
    // Streamed video, or the page itself: the server resolves the page (og:video, JSON-LD ...).
    body.page_only = true;
  }
  const evidence = { clicked_at: now.toISOString() };
  if (details) evidence.media = details;
  if (screenshot) evidence.screenshot = screenshot;
  if (includeEvidence && (details || screenshot)) body.evidence = evidence;
  return body;
}

/** Why a click cannot be sent, or "" when it can (a page-only check needs an http(s) page). */
export function unsendableReason(body) {
  if (body.page_only && !body.page_url) return "errorNoPageUrl";
  return "";
}
