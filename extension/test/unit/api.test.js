import assert from "node:assert/strict";
import { test } from "node:test";

import {
  ApiError,
  createCheck,
  describeCode,
  getCheck,
  me,
  normalizeServer,
  reportUrl,
} from "../../src/api.js";

const t = (key) => key;

function fakeFetch(status, body, type = "application/json") {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, init });
    return new Response(typeof body === "string" ? body : JSON.stringify(body), {
      status,
      headers: { "Content-Type": type },
    });
  };
  return { fetch, calls };
}

const config = (fetch) => ({
  serverUrl: "https://ac.example/ignored/path",
  token: "ac_x_y",
  fetch,
});

test("requests carry the bearer token, never cookies, and go to /api/v1 on the origin", async () => {
  const { fetch, calls } = fakeFetch(202, { id: 7, status: "queued" });
  const check = await createCheck(config(fetch), { url: "https://cdn.example/a.jpg" });
  assert.equal(check.id, 7);
  const [{ url, init }] = calls;
  assert.equal(url, "https://ac.example/api/v1/checks");
  assert.equal(init.headers.Authorization, "Bearer ac_x_y");
  assert.equal(init.credentials, "omit");
  assert.equal(init.redirect, "error");
  assert.deepEqual(JSON.parse(init.body), { url: "https://cdn.example/a.jpg" });
});

test("a problem body becomes an ApiError with its code and a readable message", async () => {
  const { fetch } = fakeFetch(
    422,
    { code: "url_blocked", detail: "non-public" },
    "application/problem+json",
  );
  await assert.rejects(createCheck(config(fetch), {}), (error) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.code, "url_blocked");
    assert.equal(error.status, 422);
    assert.equal(describeCode(error.code, t), "errorUrlBlocked");
    return true;
  });
});

test("the connection test tells a wrong server, a bad token and an unreachable one apart", async () => {
  const html = fakeFetch(200, "<html>", "text/html");
  await assert.rejects(me(config(html.fetch)), { code: "wrong_server" });
  const other = fakeFetch(200, { user: "x" });
  await assert.rejects(me(config(other.fetch)), { code: "wrong_server" });
  const refused = fakeFetch(
    401,
    { code: "authentication_failed", detail: "no" },
    "application/problem+json",
  );
  await assert.rejects(me(config(refused.fetch)), { code: "authentication_failed" });
  const down = async () => {
    throw new TypeError("Failed to fetch");
  };
  await assert.rejects(me(config(down)), { code: "unreachable" });
  const ok = fakeFetch(200, {
    service: "authcheck",
    user: "jo",
    role: "journalist",
    token: { name: "t" },
  });
  assert.equal((await me(config(ok.fetch))).user, "jo");
});

test("nothing is sent without a server and token", async () => {
  const { fetch, calls } = fakeFetch(200, {});
  await assert.rejects(createCheck({ serverUrl: "", token: "", fetch }, {}), {
    code: "not_configured",
  });
  assert.equal(calls.length, 0);
});

test("server URLs are http(s) origins without credentials", () => {
  assert.equal(normalizeServer(" https://ac.example:8443/x?y#z "), "https://ac.example:8443");
  for (const bad of [
    "javascript:alert(1)",
    "ftp://ac.example",
    "https://u:p@ac.example",
    "not a url",
  ]) {
    assert.throws(() => normalizeServer(bad), { code: "wrong_server" });
  }
  assert.equal(reportUrl("https://ac.example/", 12), "https://ac.example/dashboard/checks/12");
});

test("check ids are validated before any request", async () => {
  const { fetch, calls } = fakeFetch(200, {});
  await assert.rejects(getCheck(config(fetch), "1/../../me"), { code: "validation_error" });
  assert.equal(calls.length, 0);
});

test("every code the client maps has a message in _locales", async () => {
  const { readFile } = await import("node:fs/promises");
  const messages = JSON.parse(
    await readFile(new URL("../../_locales/en/messages.json", import.meta.url)),
  );
  const source = await readFile(new URL("../../src/api.js", import.meta.url), "utf8");
  for (const [, key] of source.matchAll(/: "(error\w+)"/g)) assert.ok(messages[key], key);
});
