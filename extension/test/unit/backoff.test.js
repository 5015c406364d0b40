import assert from "node:assert/strict";
import { test } from "node:test";

import { backoffDelay, isFinished } from "../../src/backoff.js";

test("polling backs off 1, 2, 4 ... seconds and stays at the 30 s cap", () => {
  const delays = Array.from({ length: 8 }, (_, i) => backoffDelay(i));
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  assert.equal(backoffDelay(10_000), 30000);
});

test("a missing or broken attempt count starts from the first delay", () => {
  for (const attempt of [undefined, null, -3, 1.5, "2", NaN])
    assert.equal(backoffDelay(attempt), 1000);
});

test("only done and failed checks stop the polling", () => {
  assert.equal(isFinished("done"), true);
  assert.equal(isFinished("failed"), true);
  for (const status of ["queued", "running", undefined, ""])
    assert.equal(isFinished(status), false);
});
