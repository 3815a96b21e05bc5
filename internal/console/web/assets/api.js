// The REST API client of the UI: the session cookie authenticates (the browser sends it),
// and every state-changing request carries the session's CSRF token.

let csrfToken = '';
let onUnauthorized = () => {};

/** setCSRF remembers the CSRF token of the current session. */
export function setCSRF(token) { csrfToken = token || ''; }

/** setUnauthorizedHandler sets what happens when a signed-in call answers 401. */
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

/** ApiError is an error answer of the API: {"error":{"code","message"}}. */
export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }

  /**
   * field is the request field an invalid_field error names, as its message starts:
   * "url must be...", "auth.token_url must be...", "event_types[2] must be..."; '' for none.
   */
  get field() {
    if (this.code === 'url_not_allowed') return 'url';
    if (this.code !== 'invalid_field') return '';
    const m = /^([A-Za-z_][\w.$\[\]]*)\s/.exec(this.message);
    return m ? m[1] : '';
  }
}

/**
 * api calls the API: api('POST', '/v1/apps', {name: 'x'}) answers the decoded JSON
 * (null for 204) or throws an ApiError. query is an object of query parameters; empty
 * values are left out.
 */
export async function api(method, path, body, {query, quiet401} = {}) {
  let url = path;
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
    const qs = q.toString();
    if (qs) url += '?' + qs;
  }
  const headers = {Accept: 'application/json'};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch(url, {
      method, headers, credentials: 'same-origin', cache: 'no-store', redirect: 'error',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'network', 'The server could not be reached: ' + e.message);
  }
  if (res.status === 204) return null;
  let data = null;
  try { data = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) {
    const e = data && data.error;
    const err = new ApiError(res.status, (e && e.code) || 'http_' + res.status,
      (e && e.message) || res.status + ' ' + res.statusText, res.headers.get('Retry-After'));
    if (res.status === 401 && !quiet401) onUnauthorized(err);
    throw err;
  }
  return data;
}

/** appPath is the API path of an app's resource: appPath('app_1', 'endpoints', id). */
export function appPath(app, ...parts) {
  return '/v1/apps/' + [app, ...parts].map(encodeURIComponent).join('/');
}
