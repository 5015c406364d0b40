/** Fill every `[data-i18n]` element's text from _locales (textContent only, never HTML). */
export const t = (key, subs) => chrome.i18n.getMessage(key, subs) || key;

export function localize(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  document.title = t(document.documentElement.dataset.i18nTitle || "extName");
}

/** Ask the background (the one message router) and return its answer. */
export async function ask(message) {
  const answer = await chrome.runtime.sendMessage(message);
  if (!answer?.ok) {
    const error = new Error(answer?.message || "no answer");
    error.code = answer?.code || "unreachable";
    throw error;
  }
  return answer;
}
