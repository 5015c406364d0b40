/**
 * Finding media on a page. `scanPage` and `inspectClicked` run inside the page (injected with
 * `scripting.executeScript({func})` only after the user opened the popup or clicked the menu),
 * so they are self-contained and return plain data. `normalizeMedia` and `elementKind` are
 * pure and run in the extension.
 */

/** In the page: every video, image and audio element, its <source> children, og:video/image. */
export function scanPage() {
  const MAX_ITEMS = 200;
  const items = [];
  for (const el of document.querySelectorAll("video, img, audio")) {
    if (items.length >= MAX_ITEMS) break;
    const tag = el.tagName.toLowerCase();
    items.push({
      tag,
      src: el.getAttribute("src") ? el.src : "",
      current_src: el.currentSrc || "",
      sources: [...el.querySelectorAll("source[src]")].map((s) => s.src),
      poster: tag === "video" && el.poster ? el.poster : "",
      width: tag === "img" ? el.naturalWidth : el.videoWidth || el.clientWidth || 0,
      height: tag === "img" ? el.naturalHeight : el.videoHeight || el.clientHeight || 0,
      streamed: Boolean(el.srcObject) || (el.currentSrc || "").startsWith("blob:"),
    });
  }
  const meta = [];
  for (const el of document.querySelectorAll("meta[property], meta[name]")) {
    const key = (el.getAttribute("property") || el.getAttribute("name") || "").toLowerCase();
    if (/^(og:video(:secure_url|:url)?|og:image(:secure_url|:url)?)$/.test(key) && el.content) {
      meta.push({ key, url: new URL(el.content, document.baseURI).href });
    }
  }
  return { page_url: location.href, title: document.title, items, meta };
}

/**
 * In the page, at click time: details of the element the context menu was opened on (found by
 * its URL), for the evidence bundle. `null` when no element matches.
 */
export function inspectClicked(srcUrl) {
  const matches = (el) =>
    el.currentSrc === srcUrl ||
    el.src === srcUrl ||
    [...el.querySelectorAll("source[src]")].some((s) => s.src === srcUrl);
  const el = [...document.querySelectorAll("video, img, audio")].find(matches);
  if (!el) return null;
  const tag = el.tagName.toLowerCase();
  const media = tag !== "img";
  const rect = el.getBoundingClientRect();
  return {
    tag,
    current_src: el.currentSrc || "",
    src: el.getAttribute("src") ? el.src : "",
    poster: tag === "video" && el.poster ? el.poster : "",
    width: Math.round(tag === "img" ? el.naturalWidth : el.videoWidth || rect.width),
    height: Math.round(tag === "img" ? el.naturalHeight : el.videoHeight || rect.height),
    current_time: media && Number.isFinite(el.currentTime) ? el.currentTime : null,
    duration: media && Number.isFinite(el.duration) ? el.duration : null,
    streamed: Boolean(el.srcObject) || (el.currentSrc || "").startsWith("blob:"),
  };
}

const HTTP = /^https?:\/\//i;

/** The element kind a check records, from the menu's OnClickData. */
export function elementKind(info) {
  if (["image", "video", "audio"].includes(info?.mediaType)) return info.mediaType;
  if (info?.linkUrl) return "link";
  return "page";
}

function isHttp(url) {
  return typeof url === "string" && HTTP.test(url);
}

/**
 * The popup's list from a `scanPage` result: one entry per distinct media URL, with what to
 * send. Streamed media (blob:, MediaSource) has no URL the server could fetch: it becomes a
 * page-only entry. `thumbnail` is an http(s) URL or "" (never javascript:, data: or blob:).
 */
export function normalizeMedia(scan) {
  const seen = new Set();
  const entries = [];
  const add = (entry) => {
    const key = entry.pageOnly ? `page:${entry.kind}` : entry.url;
    if (seen.has(key)) return;
    seen.add(key);
    entries.push(entry);
  };
  for (const item of scan?.items ?? []) {
    const kind = item.tag === "img" ? "image" : item.tag;
    const urls = [item.current_src, item.src, ...(item.sources ?? [])].filter(isHttp);
    const size = { width: item.width || 0, height: item.height || 0 };
    const thumbnail = kind === "image" ? urls[0] || "" : isHttp(item.poster) ? item.poster : "";
    if (item.streamed || urls.length === 0) {
      if (kind !== "image")
        add({ kind, url: "", pageOnly: true, source: "streamed", thumbnail, ...size });
      continue;
    }
    add({ kind, url: urls[0], pageOnly: false, source: `<${item.tag}>`, thumbnail, ...size });
  }
  for (const { key, url } of scan?.meta ?? []) {
    if (!isHttp(url)) continue;
    const kind = key.startsWith("og:video") ? "video" : "image";
    const thumbnail = kind === "image" ? url : "";
    add({ kind, url, pageOnly: false, source: key, thumbnail, width: 0, height: 0 });
  }
  return entries;
}
