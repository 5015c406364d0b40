/**
 * The one module that talks to the authcheck server. Every request carries the bearer token
 * in a header and never cookies (`credentials: "omit"`): the server answers the extension's
 * origin by CORS without credentials. Errors become `ApiError` with a stable `code` and a
 * readable message (the API's problem `code`s, plus `unreachable` and `wrong_server`).
 */

const TIMEOUT_MS = 20000;

/** Problem codes the user can act on, to message keys in _locales (the rest: generic). */
const CODE_MESSAGES = {
  not_authenticated: "errorBadToken",
  authentication_failed: "errorBadToken",
  permission_denied: "errorPermission",
  throttled: "errorThrottled",
  queue_full: "errorQueueFull",
  url_invalid: "errorUrlInvalid",
  url_scheme: "errorUrlInvalid",
  url_userinfo: "errorUrlInvalid",
  url_port: "errorUrlBlocked",
  url_blocked: "errorUrlBlocked",
  too_large: "errorTooLarge",
  request_too_large: "errorTooLarge",
  media_too_large: "errorTooLarge",
  too_many_files: "errorValidation",
  evidence_too_large: "errorEvidenceTooLarge",
  evidence_invalid: "errorEvidenceInvalid",
  unsupported_media: "errorUnsupportedMedia",
  unsupported_media_type: "errorUnsupportedMedia",
  media_not_found_on_page: "errorMediaNotFoundOnPage",
  fetch_failed: "errorFetchFailed",
  fetch_http_status: "errorFetchFailed",
  too_many_redirects: "errorFetchFailed",
  deadline: "errorFetchFailed",
  tls_error: "errorFetchFailed",
  validation_error: "errorValidation",
  not_found: "errorNotFound",
  internal_error: "errorServer",
  unreachable: "errorUnreachable",
  wrong_server: "errorWrongServer",
  not_configured: "errorNotConfigured",
};

export class ApiError extends Error {
  constructor(code, detail, status = 0) {
    super(detail || code);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
  }
}

/** A readable sentence for an error code (`t` translates message keys). */
export function describeCode(code, t) {
  const key = CODE_MESSAGES[code || "unreachable"];
  return key ? t(key) : `${t("errorGeneric")} (${code})`;
}

/** A readable sentence for an error thrown by this module (or anything else). */
export function describeError(error, t) {
  return describeCode(error instanceof ApiError ? error.code : "unreachable", t);
}

/**
 * The server's origin from what the user typed: http(s) only, no credentials; any path is
 * dropped (the API lives at /api/v1/). Throws ApiError("wrong_server") for anything else.
 */
export function normalizeServer(raw) {
  let url;
  try {
    url = new URL(String(raw ?? "").trim());
  } catch {
    throw new ApiError("wrong_server", "not a URL");
  }
  if (!["http:", "https:"].includes(url.protocol) || url.username || url.password) {
    throw new ApiError("wrong_server", "only http(s) server URLs without credentials");
  }
  return url.origin;
}

async function request(config, path, { method = "GET", json, form } = {}) {
  if (!config?.serverUrl || !config?.token) {
    throw new ApiError("not_configured", "set the server and token");
  }
  const headers = { Authorization: `Bearer ${config.token}`, Accept: "application/json" };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  const url = `${normalizeServer(config.serverUrl)}/api/v1/${path}`;
  let response;
  try {
    response = await (config.fetch || fetch)(url, {
      method,
      headers,
      body,
      credentials: "omit",
      cache: "no-store",
      redirect: "error",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    throw new ApiError("unreachable", String(error?.message || error));
  }
  return parse(response);
}

async function parse(response) {
  const type = response.headers.get("Content-Type") || "";
  if (!type.includes("json")) {
    throw new ApiError("wrong_server", `answered ${type || "without a type"}`, response.status);
  }
  let data;
  try {
    data = await response.json();
  } catch {
    throw new ApiError("wrong_server", "answered malformed JSON", response.status);
  }
  if (!response.ok) {
    const code = typeof data?.code === "string" ? data.code : "wrong_server";
    throw new ApiError(code, String(data?.detail ?? ""), response.status);
  }
  return data;
}

/** `GET /me`: who the token belongs to; refuses an answer that is not authcheck's. */
export async function me(config) {
  const data = await request(config, "me");
  if (data?.service !== "authcheck" || typeof data.user !== "string") {
    throw new ApiError("wrong_server", "the answer is not authcheck's");
  }
  return data;
}

/** `POST /checks` with a JSON body (a media URL, or a page the server resolves). */
export function createCheck(config, body) {
  return request(config, "checks", { method: "POST", json: body });
}

/** `POST /checks` with a local file (multipart). */
export function uploadCheck(config, file, fields = {}) {
  const form = new FormData();
  form.append("file", file, file.name || "upload");
  for (const [name, value] of Object.entries(fields)) form.append(name, String(value));
  return request(config, "checks", { method: "POST", form });
}

/** `GET /checks/{id}`. */
export async function getCheck(config, id) {
  if (!Number.isSafeInteger(id) || id <= 0) throw new ApiError("validation_error", "bad id");
  return request(config, `checks/${id}`);
}

/** The dashboard page of a check (the full report) on the configured server. */
export function reportUrl(serverUrl, id) {
  return `${normalizeServer(serverUrl)}/dashboard/checks/${Number(id)}`;
}
