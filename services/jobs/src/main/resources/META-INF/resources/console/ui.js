// Shared pieces of the console's pages: markup, fields with their API errors, badges, formats, polling.
import { h } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import htm from 'htm';

export const html = htm.bind(h);

let fieldIds = 0;

/**
 * A labelled input whose error is shown beside it: the API's problem when it names this field (name is
 * the request's field, e.g. "rank" for adapter.rank), else the form's own check.
 */
export function Field({ label, name, error, hint, children, ...input }) {
  const id = useRef(`f-${name}-${++fieldIds}`).current;
  const message = error && (typeof error === 'string' ? error : error.forField?.(name));
  const control = children
    ? children({ id, name, 'aria-invalid': message ? 'true' : undefined, 'aria-describedby': message ? `${id}-error` : undefined })
    : html`<input id=${id} name=${name} data-field=${name} aria-invalid=${message ? 'true' : undefined}
        aria-describedby=${message ? `${id}-error` : undefined} ...${input} />`;
  return html`<div class="field">
    <label for=${id}>${label}</label>
    ${control}
    ${hint && !message && html`<small class="hint">${hint}</small>`}
    ${message && html`<small class="field-error" id=${`${id}-error`} data-error-for=${name} role="alert">${message}</small>`}
  </div>`;
}

/** A select with its label, in the same shape as Field. */
export function Select({ label, name, error, options, value, onInput, hint }) {
  return html`<${Field} label=${label} name=${name} error=${error} hint=${hint}>${(a) => html`
    <select id=${a.id} name=${name} data-field=${name} aria-invalid=${a['aria-invalid']} aria-describedby=${a['aria-describedby']}
        value=${value} onChange=${onInput}>
      ${options.map((o) => html`<option value=${o.value}>${o.label}</option>`)}
    </select>`}<//>`;
}

/** The error the API gave that no field on the form shows. */
export function FormError({ error, fields = [] }) {
  if (!error) return null;
  const shown = fields.some((f) => error.forField?.(f));
  if (shown) return null;
  const lines = (error.errors || []).filter((e) => e.line != null);
  return html`<div class="form-error" role="alert">
    <p>${error.message}</p>
    ${lines.length > 0 && html`<ul class="line-errors">${lines.map((e) => html`<li>line ${e.line}: ${e.message}</li>`)}</ul>`}
  </div>`;
}

export function Status({ status }) {
  return html`<span class=${`badge badge-${status}`} data-status=${status}>${status?.replace(/_/g, ' ')}</span>`;
}

export function Progress({ value, max, label }) {
  const pct = max ? Math.min(100, Math.round((100 * value) / max)) : 0;
  return html`<div class="progress" role="progressbar" aria-label=${label} aria-valuemin="0" aria-valuemax=${max || 100}
      aria-valuenow=${value || 0}><div class="progress-bar" style=${`width:${pct}%`}></div></div>`;
}

export const time = (epochSeconds) => (epochSeconds ? new Date(epochSeconds * 1000).toLocaleString() : '—');

export function duration(seconds) {
  if (seconds == null || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export function bytes(n) {
  if (n == null) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export const number = (n) => (n == null ? '—' : Number(n).toLocaleString('en-US'));

/** Runs load now and every intervalMs while the page is shown (live without reload); returns [value, error, reload]. */
export function usePoll(load, intervalMs, deps = []) {
  const [state, setState] = useState({ value: undefined, error: null });
  const tick = useRef(0);
  const reload = () => {
    const mine = ++tick.current;
    load().then((value) => mine === tick.current && setState({ value, error: null }),
      (error) => mine === tick.current && setState((s) => ({ value: s.value, error })));
  };
  useEffect(() => {
    reload();
    if (!intervalMs) return undefined;
    const t = setInterval(reload, intervalMs);
    return () => {
      clearInterval(t);
      tick.current++;
    };
  }, deps);
  return [state.value, state.error, reload];
}

export const ENDED = ['succeeded', 'failed', 'cancelled'];

export function Empty({ children }) {
  return html`<p class="empty">${children}</p>`;
}

/**
 * An action on one item, done only once confirmed (a delete): ask(item) opens the dialog, confirm() runs
 * act(item); a failure is kept as error to show.
 */
export function useConfirmed(act) {
  const [item, setItem] = useState(null);
  const [error, setError] = useState(null);
  const confirm = async () => {
    const it = item;
    setItem(null);
    setError(null);
    try {
      await act(it);
    } catch (e) {
      setError(e.message);
    }
  };
  return { item, error, confirm, ask: setItem, close: () => setItem(null) };
}

/** A modal confirmation (the native dialog: focus kept inside, Escape closes). */
export function Confirm({ open, title, children, confirmLabel, onConfirm, onClose }) {
  const ref = useRef();
  useEffect(() => {
    const d = ref.current;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return html`<dialog ref=${ref} aria-labelledby="confirm-title" onClose=${onClose}>
    <h2 id="confirm-title">${title}</h2>
    ${children}
    <div class="actions">
      <button type="button" class="danger" onClick=${onConfirm}>${confirmLabel}</button>
      <button type="button" onClick=${onClose}>Keep it</button>
    </div>
  </dialog>`;
}
