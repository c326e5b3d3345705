// The console's only way to the platform: the public API, with the key the user pasted (session storage).

const KEY = 'peft.apiKey';

export const session = {
  key: () => sessionStorage.getItem(KEY),
  login: (key) => sessionStorage.setItem(KEY, key),
  logout: () => sessionStorage.removeItem(KEY),
};

/** An API error: the problem document's detail, the field at fault and, for files, each line's error. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.error?.message || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.field = problem?.field || problem?.error?.param || null;
    this.errors = problem?.errors || [];
  }

  /** The message for one form field, or null: a problem names the request's path (adapter.rank, …). */
  forField(name) {
    const matches = (f) => f && (f === name || f.endsWith('.' + name));
    if (matches(this.field)) return this.message;
    const e = this.errors.find((x) => matches(x.field));
    return e ? e.message : null;
  }
}

function headers(extra = {}) {
  return { Authorization: `Bearer ${session.key()}`, ...extra };
}

async function check(response) {
  if (response.ok) return response;
  let problem = null;
  try {
    problem = await response.json();
  } catch (_) { /* not a problem document */ }
  if (response.status === 401) window.dispatchEvent(new Event('peft:unauthorized'));
  throw new ApiError(response.status, problem);
}

export async function get(path) {
  return (await check(await fetch(path, { headers: headers() }))).json();
}

export async function send(method, path, body) {
  const init = { method, headers: headers(body === undefined ? {} : { 'Content-Type': 'application/json' }) };
  if (body !== undefined) init.body = JSON.stringify(body);
  return (await check(await fetch(path, init))).json();
}

/** Every item of a cursor-paged list (as the SDKs auto-paginate), up to max. */
export async function all(path, max = 1000) {
  const items = [];
  let after = null;
  while (items.length < max) {
    const sep = path.includes('?') ? '&' : '?';
    const page = await get(`${path}${sep}limit=100${after ? `&after=${encodeURIComponent(after)}` : ''}`);
    items.push(...page.data);
    if (!page.has_more || page.data.length === 0) break;
    after = page.last_id || page.data[page.data.length - 1].id;
  }
  return items;
}

/** A multipart upload with its progress (fetch reports none): onProgress(sent, total). */
export function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.setRequestHeader('Authorization', `Bearer ${session.key()}`);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded, e.total);
    xhr.onload = () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch (_) { /* empty */ }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(body);
      if (xhr.status === 401) window.dispatchEvent(new Event('peft:unauthorized'));
      return reject(new ApiError(xhr.status, body));
    };
    xhr.onerror = () => reject(new ApiError(0, { detail: 'the upload was interrupted (network error)' }));
    xhr.send(form);
  });
}

/** Saves a download that needs the key (a link cannot carry it): fetched, then handed to the browser. */
export async function download(path, filename) {
  const blob = await (await check(await fetch(path, { headers: headers() }))).blob();
  const url = URL.createObjectURL(blob);
  const a = Object.assign(document.createElement('a'), { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

/**
 * Server-sent events read through fetch (EventSource cannot send the key): onData(parsed data) for each
 * event, until the server ends the stream or signal aborts. Resolves when the stream ends.
 */
export async function stream(path, { method = 'GET', body, signal, onData }) {
  const init = { method, signal, headers: headers({ Accept: 'text/event-stream' }) };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await check(await fetch(path, init));
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\n');
      if (data === '[DONE]') return;
      if (data) onData(JSON.parse(data));
    }
  }
}
