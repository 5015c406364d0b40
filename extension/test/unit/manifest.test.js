import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";

import { buildManifest, manifestProblems, serverPattern } from "../../scripts/manifest.js";

const source = JSON.parse(await readFile(new URL("../../manifest.json", import.meta.url)));
const messages = JSON.parse(
  await readFile(new URL("../../_locales/en/messages.json", import.meta.url)),
);

test("the source manifest asks for no host access at install and nothing a page could use", () => {
  assert.deepEqual(manifestProblems(source), []);
  assert.equal(source.host_permissions, undefined);
  assert.deepEqual([...source.permissions].sort(), [
    "activeTab",
    "alarms",
    "contextMenus",
    "notifications",
    "scripting",
    "storage",
  ]);
  assert.equal(source.manifest_version, 3);
});

test("one source carries both background forms and the Firefox settings", () => {
  assert.equal(source.background.service_worker, "src/background.js");
  assert.deepEqual(source.background.scripts, ["src/background.js"]);
  const gecko = source.browser_specific_settings.gecko;
  assert.ok(gecko.id);
  assert.ok(Number.parseFloat(gecko.strict_min_version) >= 142);
  assert.ok(gecko.data_collection_permissions);
});

test("each build keeps only its browser's background form", () => {
  const chrome = buildManifest(source, { target: "chrome" });
  assert.equal(chrome.background.scripts, undefined);
  assert.equal(chrome.browser_specific_settings, undefined);
  const firefox = buildManifest(source, { target: "firefox" });
  assert.equal(firefox.background.service_worker, undefined);
  assert.deepEqual(firefox.background.scripts, ["src/background.js"]);
  assert.ok(source.background.service_worker, "the source is not modified");
});

test("a newsroom build writes exactly its server's origin into host_permissions", () => {
  const built = buildManifest(source, {
    target: "chrome",
    server: "https://authcheck.news.example:8443/some/path",
  });
  assert.deepEqual(built.host_permissions, ["https://authcheck.news.example:8443/*"]);
  assert.throws(() => serverPattern("ftp://x.example"), /http\(s\)/);
  assert.throws(() => serverPattern("https://user:pw@x.example"), /credentials/);
  assert.throws(
    () => buildManifest(source, { target: "chrome", extraHosts: ["<all_urls>"] }),
    /blanket/,
  );
  assert.throws(() => buildManifest(source, { target: "safari" }), /unknown target/);
});

test("every __MSG_ key of the manifest is in _locales", () => {
  const keys = JSON.stringify(source)
    .match(/__MSG_(\w+)__/g)
    .map((k) => k.slice(6, -2));
  for (const key of keys) assert.ok(messages[key], key);
});
