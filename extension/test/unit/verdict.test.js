import assert from "node:assert/strict";
import { test } from "node:test";

import { badgeFor, oneLine } from "../../src/verdict.js";

const messages = JSON.parse(
  await (
    await import("node:fs/promises")
  ).readFile(new URL("../../_locales/en/messages.json", import.meta.url)),
);
const t = (key) => messages[key]?.message ?? `MISSING:${key}`;
const done = (verdict, extra = {}) => ({
  status: "done",
  verdict: { kind: "automated", summary: "", ...verdict },
  ...extra,
});

test("every label and decision has words in _locales", () => {
  const labels = [
    "provenance_verified",
    "provenance_untrusted",
    "declared_synthetic",
    "credentials_invalid",
    "synthetic_indicators",
    "no_provenance",
    "error",
  ];
  for (const label of labels) assert.doesNotMatch(badgeFor(done({ label }), t).text, /MISSING/);
  for (const decision of [
    "authentic",
    "synthetic",
    "manipulated",
    "misattributed",
    "inconclusive",
  ]) {
    assert.doesNotMatch(badgeFor(done({ kind: "review", decision }), t).text, /MISSING/);
  }
});

test("no automated verdict is ever worded as authentic", () => {
  const labels = [
    "provenance_verified",
    "provenance_untrusted",
    "no_provenance",
    "synthetic_indicators",
  ];
  for (const label of labels) {
    const badge = badgeFor(done({ label, summary: "nothing found" }), t);
    assert.doesNotMatch(badge.text, /authentic/i);
    // The one mention allowed is the disclaimer that absence is not evidence of authenticity.
    const rest = badge.explanation.replace("This is not evidence that it is authentic.", "");
    assert.doesNotMatch(rest, /authentic/i);
  }
  const none = badgeFor(done({ label: "no_provenance", summary: "No Content Credentials." }), t);
  assert.equal(none.text, "No provenance found");
  assert.match(none.explanation, /not evidence that it is authentic/);
});

test("only a reviewer's decision says authentic, and it says it was reviewed", () => {
  const badge = badgeFor(done({ kind: "review", decision: "authentic", label: null }), t);
  assert.equal(badge.text, "Reviewed: authentic");
  assert.equal(badge.tone, "good");
});

test("a check that is not finished is pending", () => {
  assert.equal(badgeFor({ status: "running", verdict: null }, t).tone, "pending");
  assert.equal(badgeFor(undefined, t).text, "Checking…");
});

test("a page without media says so", () => {
  const check = done(
    { label: "error", summary: "x" },
    { status: "failed", error: { code: "media_not_found_on_page" } },
  );
  assert.match(badgeFor(check, t).explanation, /No video or image could be found on this page/);
});

test("server summaries become one short line without controls or bidi overrides", () => {
  assert.equal(oneLine("a\u202eb\nc\u0000d"), "a b c d");
  assert.equal(oneLine("x".repeat(500)).length, 160);
  assert.equal(oneLine(null), "");
});
