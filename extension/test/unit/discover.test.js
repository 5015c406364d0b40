import assert from "node:assert/strict";
import { test } from "node:test";

import { elementKind, normalizeMedia } from "../../src/discover.js";

test("the popup lists each media URL once, with thumbnail and size", () => {
  const scan = {
    items: [
      {
        tag: "img",
        src: "https://cdn.example/a.jpg",
        current_src: "https://cdn.example/a.jpg",
        sources: [],
        width: 800,
        height: 600,
      },
      {
        tag: "img",
        src: "https://cdn.example/a.jpg",
        current_src: "https://cdn.example/a.jpg",
        sources: [],
        width: 800,
        height: 600,
      },
      {
        tag: "video",
        src: "",
        current_src: "",
        sources: ["https://cdn.example/v.webm"],
        poster: "https://cdn.example/p.jpg",
        width: 1280,
        height: 720,
      },
    ],
    meta: [
      { key: "og:video", url: "https://cdn.example/og.mp4" },
      { key: "og:image", url: "https://cdn.example/a.jpg" },
    ],
  };
  assert.deepEqual(normalizeMedia(scan), [
    {
      kind: "image",
      url: "https://cdn.example/a.jpg",
      pageOnly: false,
      source: "<img>",
      thumbnail: "https://cdn.example/a.jpg",
      width: 800,
      height: 600,
    },
    {
      kind: "video",
      url: "https://cdn.example/v.webm",
      pageOnly: false,
      source: "<video>",
      thumbnail: "https://cdn.example/p.jpg",
      width: 1280,
      height: 720,
    },
    {
      kind: "video",
      url: "https://cdn.example/og.mp4",
      pageOnly: false,
      source: "og:video",
      thumbnail: "",
      width: 0,
      height: 0,
    },
  ]);
});

test("a streamed video is offered as a page-only check, once", () => {
  const blob = {
    tag: "video",
    src: "blob:https://x/1",
    current_src: "blob:https://x/1",
    sources: [],
    streamed: true,
    width: 640,
    height: 360,
  };
  const entries = normalizeMedia({ items: [blob, { ...blob }], meta: [] });
  assert.equal(entries.length, 1);
  assert.equal(entries[0].pageOnly, true);
  assert.equal(entries[0].url, "");
});

test("javascript:, data: and blob: URLs are never offered or used as thumbnails", () => {
  const scan = {
    items: [
      {
        tag: "img",
        src: "data:image/png;base64,AA",
        current_src: "data:image/png;base64,AA",
        sources: [],
      },
      {
        tag: "video",
        src: "https://cdn.example/v.mp4",
        current_src: "https://cdn.example/v.mp4",
        sources: [],
        poster: "javascript:alert(1)",
      },
    ],
    meta: [{ key: "og:image", url: "javascript:alert(1)" }],
  };
  const entries = normalizeMedia(scan);
  assert.deepEqual(
    entries.map((e) => [e.url, e.thumbnail]),
    [["https://cdn.example/v.mp4", ""]],
  );
});

test("the element kind comes from the menu's media type, then link, then page", () => {
  assert.equal(elementKind({ mediaType: "video", linkUrl: "https://x" }), "video");
  assert.equal(elementKind({ linkUrl: "https://x" }), "link");
  assert.equal(elementKind({}), "page");
});
