/**
 * Verdict to words. The wording follows the server's verdict labels (SPEC section 2) and never
 * says "authentic" from the absence of signals: only a reviewer's decision can say that.
 * Pure: used by the popup, the notifications and the on-page badge.
 */

const LABELS = {
  provenance_verified: { key: "verdictProvenanceVerified", tone: "good" },
  provenance_untrusted: { key: "verdictProvenanceUntrusted", tone: "caution" },
  declared_synthetic: { key: "verdictDeclaredSynthetic", tone: "warn" },
  credentials_invalid: { key: "verdictCredentialsInvalid", tone: "bad" },
  synthetic_indicators: { key: "verdictSyntheticIndicators", tone: "warn" },
  no_provenance: { key: "verdictNoProvenance", tone: "neutral" },
  error: { key: "verdictError", tone: "neutral" },
};

const DECISIONS = {
  authentic: { key: "decisionAuthentic", tone: "good" },
  synthetic: { key: "decisionSynthetic", tone: "bad" },
  manipulated: { key: "decisionManipulated", tone: "bad" },
  misattributed: { key: "decisionMisattributed", tone: "warn" },
  inconclusive: { key: "decisionInconclusive", tone: "neutral" },
};

const SUMMARY_LIMIT = 160;

/** One line of plain text (no controls, no newlines), at most `limit` characters. */
export function oneLine(text, limit = SUMMARY_LIMIT) {
  // Controls and bidi overrides would let a server string reorder or hide the text around it.
  // eslint-disable-next-line no-control-regex
  const controls = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]+/g;
  const flat = String(text ?? "")
    .replace(controls, " ")
    .trim();
  return flat.length > limit ? `${flat.slice(0, limit - 1)}…` : flat;
}

/**
 * The badge for a check: `{key, tone, text, explanation}`. `t(key)` translates a message key
 * (chrome.i18n.getMessage in the extension, an identity function in tests).
 */
export function badgeFor(check, t) {
  const verdict = check?.verdict;
  if (!check || !["done", "failed"].includes(check.status) || !verdict) {
    return {
      key: "verdictPending",
      tone: "pending",
      text: t("verdictPending"),
      explanation: t("explainPending"),
    };
  }
  const entry =
    (verdict.kind === "review" && DECISIONS[verdict.decision]) ||
    LABELS[verdict.label] ||
    LABELS.error;
  let explanation = oneLine(verdict.summary);
  if (verdict.label === "no_provenance") {
    explanation = `${explanation} ${t("explainNoProvenance")}`.trim();
  }
  if (check.status === "failed" && check.error?.code === "media_not_found_on_page") {
    explanation = t("errorMediaNotFoundOnPage");
  }
  return { key: entry.key, tone: entry.tone, text: t(entry.key), explanation };
}
