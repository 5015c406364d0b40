import assert from "node:assert/strict";
import { test } from "node:test";

import { submissionFor, unsendableReason } from "../../src/submission.js";

const tab = { id: 3, url: "https://news.example/story", title: "Flood in town" };
const now = new Date("2026-12-01T20:00:00Z");

test("an image click sends its URL, the page, the title, the kind, the time and the client", () => {
  const info = { mediaType: "image", srcUrl: "https://cdn.example/a.jpg", pageUrl: tab.url };
  const details = { tag: "img", current_src: "https://cdn.example/a.jpg", width: 640, height: 480 };
  const body = submissionFor(info, tab, {
    details,
    screenshot: "data:image/jpeg;base64,AAAA",
    now,
  });
  assert.deepEqual(body, {
    client: "extension",
    element: "image",
    page_url: tab.url,
    page_title: "Flood in town",
    url: "https://cdn.example/a.jpg",
    evidence: {
      clicked_at: "2026-12-01T20:00:00.000Z",
      media: details,
      screenshot: "data:image/jpeg;base64,AAAA",
    },
  });
});

test("a blob: video becomes a page-only check that sends no media URL", () => {
  const info = { mediaType: "video", srcUrl: "blob:https://news.example/5c1d", pageUrl: tab.url };
  const body = submissionFor(info, tab, { now });
  assert.equal(body.page_only, true);
  assert.equal("url" in body, false);
  assert.equal(body.page_url, tab.url);
  assert.equal(unsendableReason(body), "");
});

test("a MediaSource video with an http currentSrc still goes page-only when streamed", () => {
  const info = { mediaType: "video", srcUrl: "https://news.example/v", pageUrl: tab.url };
  const body = submissionFor(info, tab, { details: { streamed: true }, now });
  assert.equal(body.page_only, true);
});

test("a link sends the link; the page sends the page to resolve", () => {
  const link = submissionFor({ linkUrl: "https://cdn.example/v.mp4", pageUrl: tab.url }, tab, {
    now,
  });
  assert.equal(link.element, "link");
  assert.equal(link.url, "https://cdn.example/v.mp4");
  const page = submissionFor({ pageUrl: tab.url }, tab, { now });
  assert.equal(page.element, "page");
  assert.equal(page.page_only, true);
});

test("evidence switched off sends no bundle at all", () => {
  const info = { mediaType: "image", srcUrl: "https://cdn.example/a.jpg", pageUrl: tab.url };
  const body = submissionFor(info, tab, {
    details: { tag: "img" },
    screenshot: "data:x",
    includeEvidence: false,
    now,
  });
  assert.equal("evidence" in body, false);
});

test("a page that is not http(s) cannot be resolved by the server", () => {
  const info = { mediaType: "video", srcUrl: "blob:file:///x", pageUrl: "file:///home/me/x.html" };
  const body = submissionFor(info, { url: "file:///home/me/x.html" }, { now });
  assert.equal(body.page_url, "");
  assert.equal(unsendableReason(body), "errorNoPageUrl");
});
