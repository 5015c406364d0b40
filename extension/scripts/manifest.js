/**
 * Manifest builder: the one source manifest, adapted per browser. Pure, so tests can prove
 * that no build ever carries blanket host access and that `--server` adds exactly one origin.
 */

const BLANKET = new Set(["<all_urls>", "*://*/*", "http://*/*", "https://*/*"]);

/** `https://host[:port]/*` for a server URL (http(s) only, no credentials); throws otherwise. */
export function serverPattern(server) {
  const url = new URL(server);
  if (!["http:", "https:"].includes(url.protocol) || url.username || url.password) {
    throw new Error(`--server must be an http(s) URL without credentials, not ${server}`);
  }
  return `${url.origin}/*`;
}

/**
 * The manifest for `target` ("chrome" or "firefox"). `server` writes that one origin into
 * `host_permissions` (a build for one newsroom); `extraHosts` is for test copies only.
 */
export function buildManifest(source, { target, server = "", extraHosts = [] } = {}) {
  if (!["chrome", "firefox"].includes(target)) throw new Error(`unknown target ${target}`);
  const manifest = structuredClone(source);
  const hosts = [...(server ? [serverPattern(server)] : []), ...extraHosts];
  if (hosts.some((h) => BLANKET.has(h))) throw new Error("blanket host access is not allowed");
  if (hosts.length) manifest.host_permissions = hosts;
  if (target === "chrome") {
    delete manifest.browser_specific_settings;
    delete manifest.background.scripts;
  } else {
    delete manifest.background.service_worker;
  }
  return manifest;
}

/** Problems that must stop a build (checked on every target). */
export function manifestProblems(manifest) {
  const problems = [];
  for (const h of manifest.host_permissions ?? []) {
    if (BLANKET.has(h)) problems.push(`blanket host permission ${h}`);
  }
  if ((manifest.permissions ?? []).some((p) => BLANKET.has(p))) problems.push("blanket permission");
  if (manifest.externally_connectable) problems.push("externally_connectable is not allowed");
  if (manifest.web_accessible_resources) problems.push("web_accessible_resources is not allowed");
  if (manifest.content_security_policy) problems.push("keep the default extension CSP");
  return problems;
}
