// The broker's JSON API, called with the signed-in key. Errors come back as RFC 9457 problems;
// ApiError keeps the problem, with `errors` (field -> messages) for forms.
const STORAGE_KEY = 'computebroker.apiKey';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem ?? {};
    this.errors = problem?.errors ?? {};
  }
}

export const storedKey = () => sessionStorage.getItem(STORAGE_KEY);
export const storeKey = (key) => sessionStorage.setItem(STORAGE_KEY, key);
export const clearKey = () => sessionStorage.removeItem(STORAGE_KEY);

/** Calls the API; resolves to the parsed JSON (or text), rejects with ApiError on 4xx/5xx. */
export async function api(path, { method = 'GET', body, key, accept = 'application/json' } = {}) {
  const headers = { Authorization: `Bearer ${key ?? storedKey() ?? ''}`, Accept: accept };
  const init = { method, headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }

  const response = await fetch(path, init);
  const text = await response.text();
  let data = text;
  if (text && (response.headers.get('Content-Type') || '').includes('json')) {
    try { data = JSON.parse(text); } catch { data = text; }
  }

  if (!response.ok) {
    throw new ApiError(response.status, typeof data === 'object' ? data : { detail: text || response.statusText });
  }

  return text ? data : null;
}

/** Builds a query string from the defined, non-empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') q.set(name, value);
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}
