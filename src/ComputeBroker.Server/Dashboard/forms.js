// Form fields with labels, hints and error messages wired for assistive technology, and the mapping of
// an RFC 9457 problem's per-field `errors` onto those fields.
import { ApiError } from './api.js';
import { h } from './dom.js';

/** A labelled field: label, control, optional hint, and an error slot the control describes itself by. */
export function field(id, label, control, hint) {
  control.id = id;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  control.setAttribute('aria-describedby', hint ? `${hintId} ${errorId}` : errorId);
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    control,
    hint ? h('p', { id: hintId, class: 'hint' }, hint) : null,
    h('p', { id: errorId, class: 'error field-error', hidden: true }));
}

export function setError(control, message) {
  const slot = document.getElementById(`${control.id}-error`);
  if (message) {
    control.setAttribute('aria-invalid', 'true');
    slot.textContent = message;
    slot.hidden = false;
  } else {
    control.removeAttribute('aria-invalid');
    slot.textContent = '';
    slot.hidden = true;
  }
}

export function clearErrors(form) {
  for (const control of form.querySelectorAll('[aria-invalid]')) setError(control, null);
  const summary = form.querySelector('.form-error');
  if (summary) { summary.textContent = ''; summary.hidden = true; }
}

/** Shows errors: { control: message } pairs; focuses the first invalid control. Returns true when there were any. */
export function showErrors(form, pairs) {
  let first = null;
  for (const [control, message] of pairs) {
    if (!message) continue;
    setError(control, message);
    first ??= control;
  }
  first?.focus();
  return first !== null;
}

/** Shows a failed call: field errors next to their controls (by API field name), the rest in the form's summary. */
export function showProblem(form, error, controlsByField) {
  const summary = form.querySelector('.form-error');
  const problems = error instanceof ApiError ? error.errors : {};
  const pairs = [];
  const unmatched = [];
  for (const [name, messages] of Object.entries(problems)) {
    const control = controlsByField[name];
    const text = `${name} ${messages.join('; ')}`;
    if (control) pairs.push([control, text]);
    else unmatched.push(text);
  }
  showErrors(form, pairs);
  if (summary && (pairs.length === 0 || unmatched.length > 0)) {
    summary.textContent = error instanceof ApiError
      ? `The broker refused: ${[error.message, ...unmatched].join(' ')}`
      : `Could not reach the broker: ${error.message}`;
    summary.hidden = false;
    if (pairs.length === 0) summary.focus();
  }
}

export const formError = () => h('p', { class: 'error form-error', role: 'alert', tabindex: -1, hidden: true });

/** Reads a whole number in [min, max]; returns { value } or { error }. */
export function wholeNumber(text, min, max, what) {
  const trimmed = text.trim();
  if (!trimmed) return { error: `Give the number of ${what}.` };
  if (!/^\d+$/.test(trimmed)) return { error: `${what[0].toUpperCase()}${what.slice(1)} must be a whole number, e.g. ${Math.max(min, Math.floor(max / 2))}.` };
  const value = Number(trimmed);
  if (value < min || value > max) return { error: `Give a number of ${what} from ${min} to ${max}.` };
  return { value };
}

/** A datetime-local value read as UTC, or null when empty. */
export function utcInstant(text) {
  if (!text) return null;
  const date = new Date(`${text}${text.length === 16 ? ':00' : ''}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
