// How the dashboard writes instants, durations, money and states. Instants are broker time, in UTC.
import { brokerNow, formatSpan } from './clock.js';
import { h } from './dom.js';

export function fmtTime(iso, { seconds = false } = {}) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const text = d.toISOString().replace('T', ' ').slice(0, seconds ? 19 : 16);
  return `${text} UTC`;
}

export function fmtDate(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().slice(0, 10);
}

/** A <time> element showing an instant. */
export const time = (iso, options) => (iso ? h('time', { datetime: iso }, fmtTime(iso, options)) : '—');

/** A live countdown to an instant (clock.js ticks it every second). */
export function countdown(iso) {
  if (!iso) return '—';
  const left = Date.parse(iso) - brokerNow();
  return h('time', { datetime: iso, class: `countdown${left <= 0 ? ' passed' : left < 12 * 3600 * 1000 ? ' soon' : ''}`, 'data-deadline': iso, title: `Deadline ${fmtTime(iso)}` },
    left > 0 ? `${formatSpan(left)} left` : 'deadline passed');
}

/** ISO 8601 durations ("P1492DT3H3M34.08S", "PT5H14M") as "1492d 3h", "5h 14m", "45s". */
export function fmtDuration(iso) {
  if (!iso) return '—';
  const m = /^(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?)?$/.exec(iso);
  if (!m) return iso;
  const [, negative, d = 0, hh = 0, mm = 0, ss = 0] = m;
  const parts = [];
  if (+d) parts.push(`${+d}d`);
  if (+hh) parts.push(`${+hh}h`);
  if (+mm && !+d) parts.push(`${+mm}m`);
  if (!+d && !+hh) parts.push(`${Math.round(+ss)}s`);
  return (negative ? '-' : '') + (parts.slice(0, 2).join(' ') || '0s');
}

export const fmtInt = (n) => (n === null || n === undefined ? '—' : Number(n).toLocaleString('en-US'));
export const fmtPercent = (fraction, digits = 1) =>
  fraction === null || fraction === undefined ? '—' : `${(Number(fraction) * 100).toFixed(digits)}%`;

/** "12.29 USD" -> { amount: 12.29, currency: "USD" }. */
export function parseMoney(text) {
  const m = /^(-?[\d.]+)\s+([A-Z]{3})$/.exec(text ?? '');
  return m ? { amount: Number(m[1]), currency: m[2] } : null;
}

/** "100000000000.00 USD" -> "100,000,000,000.00 USD". */
export function fmtMoney(text) {
  const money = parseMoney(text);
  if (!money) return text ?? '—';
  const [whole, cents = ''] = text.split(' ')[0].split('.');
  const sign = whole.startsWith('-') ? '-' : '';
  return `${sign}${Number(whole.replace('-', '')).toLocaleString('en-US')}${cents ? `.${cents}` : ''} ${money.currency}`;
}

const STATE_TONES = {
  placed: 'good', 'partially-placed': 'warn', unfulfilled: 'bad', cancelled: 'muted',
  open: 'info', accepted: 'good', declined: 'bad', expired: 'muted', withdrawn: 'muted', quoted: 'good',
  confirmed: 'good', failed: 'bad', 'in-force': 'good', 'not-yet': 'info', terminated: 'bad',
  added: 'good', removed: 'bad', changed: 'warn', unchanged: 'muted', passed: 'good',
};

/** A state as a labelled badge; the text carries the meaning, the colour only repeats it. */
export const badge = (state) => h('span', { class: `badge ${STATE_TONES[state] ?? 'info'}` }, (state ?? '—').replaceAll('-', ' '));

export const REQUEST_STATES = [
  'new', 'awaiting-offer', 'awaiting-quotes', 'awaiting-match', 'awaiting-reservations',
  'placed', 'partially-placed', 'unfulfilled', 'cancelled',
];

export const TERMINAL_STATES = ['placed', 'partially-placed', 'unfulfilled', 'cancelled'];

/** A definition list from [term, value] pairs (values may be nodes). */
export function dl(pairs, className = 'facts') {
  return h('dl', { class: className }, pairs.filter(Boolean).map(([term, value]) => [h('dt', null, term), h('dd', null, value ?? '—')]));
}

/** A table with a caption and header row; rows are arrays of cells (strings or nodes). */
export function table(caption, headers, rows, { className = 'data', captionHidden = false, tbody } = {}) {
  const body = tbody ?? h('tbody');
  if (!tbody) for (const row of rows) body.append(h('tr', null, row.map((cell) => h('td', null, cell))));
  return h('table', { class: className },
    h('caption', { class: captionHidden ? 'visually-hidden' : null }, caption),
    h('thead', null, h('tr', null, headers.map((x) => h('th', { scope: 'col' }, x)))),
    body);
}
