/**
 * Polling delays for following a check: 1, 2, 4 ... seconds, capped (30 s by default).
 * Pure: the caller keeps the attempt count in storage, so a restarted worker resumes.
 */

export const BACKOFF_START_MS = 1000;
export const BACKOFF_CAP_MS = 30000;

/** Delay before poll number `attempt` (0-based). */
export function backoffDelay(attempt, { start = BACKOFF_START_MS, cap = BACKOFF_CAP_MS } = {}) {
  const n = Number.isInteger(attempt) && attempt > 0 ? attempt : 0;
  // 2 ** 31 already exceeds any cap; clamp the exponent so the arithmetic stays finite.
  return Math.min(cap, start * 2 ** Math.min(n, 31));
}

/** True when a check in this status will not change any more (stop polling). */
export function isFinished(status) {
  return status === "done" || status === "failed";
}
