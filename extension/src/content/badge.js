/**
 * The on-page verdict badge. Injected into the checked tab only after a check the user started
 * has finished (never on page load). The badge lives in a closed shadow root under a host
 * element named `authcheck-badge`: the page cannot read or restyle its content, and the host
 * carries no attributes, so no verdict is exposed to the page's scripts through the DOM.
 * Text is set with textContent only; the link points to the full report (a page can draw a
 * fake badge of its own; the report and the popup are authoritative).
 *
 * Self-contained classic script: it runs in the extension's isolated world and defines
 * `globalThis.authcheckBadge.show(data)` there (invisible to the page).
 */
(() => {
  if (globalThis.authcheckBadge) return;

  const TONES = new Set(["good", "caution", "warn", "bad", "neutral", "pending"]);
  const COLORS = {
    good: "#1b5e20",
    caution: "#8a5a00",
    warn: "#9a3412",
    bad: "#b71c1c",
    neutral: "#37474f",
    pending: "#455a64",
  };
  // `all: initial !important` on :host beats any page rule for the host (important rules of
  // the inner tree win), and nothing from the page reaches inside the shadow root.
  const CSS = `
    :host { all: initial !important; display: inline-block !important; position: relative !important;
      vertical-align: top !important; margin: 4px !important; z-index: 2147483647 !important;
      visibility: visible !important; opacity: 1 !important; }
    a { all: initial; display: inline-block; cursor: pointer; font: 600 12px/1.4 system-ui, sans-serif;
      color: #fff; background: var(--tone); border-radius: 4px; padding: 2px 8px; text-decoration: none; }
    a:focus { outline: 2px solid #1a73e8; outline-offset: 2px; }
    .tip { all: initial; display: none; position: absolute; left: 0; top: 100%; margin-top: 4px;
      width: max-content; max-width: 320px; font: 12px/1.4 system-ui, sans-serif; color: #111;
      background: #fff; border: 1px solid #999; border-radius: 4px; padding: 4px 8px; }
    a:hover + .tip, a:focus + .tip { display: block; }
  `;
  const owned = new WeakSet();

  const isHttp = (value) => typeof value === "string" && /^https?:\/\//i.test(value);
  const text = (value, max) => (typeof value === "string" ? value.slice(0, max) : "");

  function findTarget(srcUrl) {
    const matches = (el) =>
      el.currentSrc === srcUrl ||
      el.src === srcUrl ||
      [...el.querySelectorAll("source[src]")].some((s) => s.src === srcUrl);
    return [...document.querySelectorAll("video, img, audio")].find(matches) || null;
  }

  function build(data) {
    const host = document.createElement("authcheck-badge");
    const root = host.attachShadow({ mode: "closed" });
    const style = document.createElement("style");
    style.textContent = CSS;
    const link = document.createElement("a");
    link.href = data.reportUrl;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    link.style.setProperty("--tone", COLORS[data.tone]);
    link.textContent = text(data.text, 80);
    link.setAttribute("aria-describedby", "tip");
    const tip = document.createElement("span");
    tip.className = "tip";
    tip.id = "tip";
    tip.setAttribute("role", "tooltip");
    tip.textContent = `${text(data.explanation, 300)} ${text(data.reportText, 80)}`.trim();
    root.append(style, link, tip);
    owned.add(host);
    return host;
  }

  function show(data) {
    if (
      !data ||
      !isHttp(data.reportUrl) ||
      !TONES.has(data.tone) ||
      typeof data.srcUrl !== "string"
    ) {
      return false;
    }
    const target = findTarget(data.srcUrl);
    if (!target) return false;
    const previous = target.nextElementSibling;
    if (previous && owned.has(previous)) previous.remove();
    target.insertAdjacentElement("afterend", build(data));
    return true;
  }

  globalThis.authcheckBadge = Object.freeze({ show });
})();
