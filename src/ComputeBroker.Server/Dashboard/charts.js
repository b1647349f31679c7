// Small inline SVG charts drawn from the API's numbers. Each chart is an image with a text alternative,
// and each comes with its data as a table (in a <details>) for screen readers and exact values.
import { h, nextId } from './dom.js';
import { fmtInt, fmtPercent, fmtTime } from './format.js';

// Colours with at least 3:1 contrast against white (WCAG 1.4.11), distinct in hue and lightness.
const PALETTE = {
  azure: '#0063b1', oracle: '#b3261e', stargate: '#6a3fb5', coreweave: '#1e7a46',
  aws: '#a35200', gcp: '#5c6670',
};
const FALLBACK = ['#00758f', '#8a5a00', '#a3236b', '#3d5a99', '#4d7a0a', '#7a4a2e'];

export function providerColour(provider, index = 0) {
  return PALETTE[provider] ?? FALLBACK[index % FALLBACK.length];
}

function niceMax(value) {
  if (value <= 0) return 1;
  const exp = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
    if (step * exp >= value) return step * exp;
  }
  return 10 * exp;
}

function bucketLabel(iso, bucket) {
  const text = new Date(iso).toISOString();
  if (bucket === 'hour') return `${text.slice(5, 10)} ${text.slice(11, 13)}h`;
  return text.slice(5, 10);
}

const compact = (n) => (n >= 1e6 ? `${+(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${+(n / 1e3).toFixed(1)}k` : String(n));

function legend(providers) {
  return h('ul', { class: 'legend' }, providers.map((p, i) =>
    h('li', null,
      h('svg', { width: 12, height: 12, viewBox: '0 0 12 12', 'aria-hidden': 'true' }, h('rect', { width: 12, height: 12, rx: 2, fill: providerColour(p, i) })),
      ` ${p}`)));
}

function frame(titleText, descText, width, height) {
  const titleId = nextId('chart-title');
  const descId = nextId('chart-desc');
  const svg = h('svg', {
    viewBox: `0 0 ${width} ${height}`, role: 'img', class: 'chart',
    'aria-labelledby': titleId, 'aria-describedby': descId, preserveAspectRatio: 'xMidYMid meet',
  }, h('title', { id: titleId }, titleText), h('desc', { id: descId }, descText));
  return svg;
}

function yAxis(svg, max, m, W, H, format) {
  for (let i = 0; i <= 4; i++) {
    const value = (max * i) / 4;
    const y = H - m.b - ((H - m.t - m.b) * i) / 4;
    svg.append(h('line', { x1: m.l, x2: W - m.r, y1: y, y2: y, class: i === 0 ? 'axis' : 'grid' }));
    svg.append(h('text', { x: m.l - 6, y: y + 4, 'text-anchor': 'end', class: 'tick' }, format(value)));
  }
}

/** GPUs placed per provider in each bucket, stacked. */
export function placementsChart(series) {
  const W = 720; const H = 250; const m = { l: 52, r: 10, t: 10, b: 30 };
  const points = series.points ?? [];
  const providers = series.providers ?? [];
  const total = providers.reduce((sum, p) => sum + (series.totals?.[p] ?? 0), 0);
  const description = total === 0
    ? 'No GPUs placed yet.'
    : `${fmtInt(total)} GPUs placed over ${points.length} ${series.bucket}s: ` +
      providers.map((p) => `${p} ${fmtInt(series.totals[p])}`).join(', ') + '.';
  const svg = frame(`GPUs placed per provider, per ${series.bucket}`, description, W, H);
  const max = niceMax(Math.max(1, ...points.map((p) => p.total)));
  yAxis(svg, max, m, W, H, (v) => compact(Math.round(v)));
  const slot = (W - m.l - m.r) / Math.max(points.length, 1);
  const barWidth = Math.max(1, slot * 0.78);
  const every = Math.max(1, Math.ceil(points.length / 8));
  points.forEach((point, i) => {
    const x = m.l + i * slot + (slot - barWidth) / 2;
    let y = H - m.b;
    providers.forEach((provider, pi) => {
      const gpus = point.gpus?.[provider] ?? 0;
      if (!gpus) return;
      const height = ((H - m.t - m.b) * gpus) / max;
      y -= height;
      svg.append(h('rect', { x: x.toFixed(1), y: y.toFixed(1), width: barWidth.toFixed(1), height: Math.max(height, 0.5).toFixed(1), fill: providerColour(provider, pi) },
        h('title', null, `${provider}: ${fmtInt(gpus)} GPUs, ${fmtTime(point.start)}`)));
    });
    if (i % every === 0) {
      svg.append(h('text', { x: (m.l + i * slot + slot / 2).toFixed(1), y: H - m.b + 16, 'text-anchor': 'middle', class: 'tick' }, bucketLabel(point.start, series.bucket)));
    }
  });
  if (points.length === 0) {
    svg.append(h('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'empty' }, 'No GPUs placed yet'));
  }

  const data = h('details', { class: 'chart-data' },
    h('summary', null, 'Data as a table'),
    h('table', { class: 'data compact' },
      h('caption', { class: 'visually-hidden' }, `GPUs placed per provider, per ${series.bucket}`),
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, series.bucket), providers.map((p) => h('th', { scope: 'col' }, p)), h('th', { scope: 'col' }, 'total'))),
      h('tbody', null, points.filter((p) => p.total > 0).map((p) =>
        h('tr', null, h('th', { scope: 'row' }, fmtTime(p.start)), providers.map((x) => h('td', { class: 'num' }, fmtInt(p.gpus?.[x] ?? 0))), h('td', { class: 'num' }, fmtInt(p.total)))))));
  return [svg, legend(providers), data];
}

/** The holder's cumulative share of placed GPUs after each bucket. */
export function holderShareChart(series) {
  const W = 720; const H = 200; const m = { l: 52, r: 10, t: 10, b: 30 };
  const holder = series.holder ?? 'the holder';
  const points = (series.points ?? []);
  const started = points.findIndex((p) => p.total > 0);
  const shown = started < 0 ? [] : points.slice(started);
  const svg = frame(`${holder}'s cumulative share of placed GPUs`,
    shown.length ? `${holder} holds ${fmtPercent(series.holderShare)} of all GPUs placed.` : 'No GPUs placed yet.', W, H);
  yAxis(svg, 1, m, W, H, (v) => `${Math.round(v * 100)}%`);
  const step = (W - m.l - m.r) / Math.max(shown.length - 1, 1);
  const xy = shown.map((p, i) => [m.l + i * step, H - m.b - (H - m.t - m.b) * Number(p.cumulativeHolderShare)]);
  if (xy.length) {
    svg.append(h('polyline', { points: xy.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' '), class: 'line', fill: 'none', stroke: providerColour(series.holder ?? 'azure') }));
    const every = Math.max(1, Math.ceil(shown.length / 8));
    shown.forEach((p, i) => {
      const [x, y] = xy[i];
      svg.append(h('circle', { cx: x.toFixed(1), cy: y.toFixed(1), r: 2.5, fill: providerColour(series.holder ?? 'azure') },
        h('title', null, `${fmtTime(p.start)}: ${fmtPercent(p.cumulativeHolderShare)}`)));
      if (i % every === 0) svg.append(h('text', { x: x.toFixed(1), y: H - m.b + 16, 'text-anchor': 'middle', class: 'tick' }, bucketLabel(p.start, series.bucket)));
    });
  } else {
    svg.append(h('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'empty' }, 'No GPUs placed yet'));
  }
  return [svg];
}

/** Requests by state as horizontal bars. */
export function statesChart(byState, order) {
  const entries = order.filter((s) => byState[s]).map((s) => [s, byState[s]])
    .concat(Object.entries(byState).filter(([s]) => !order.includes(s)));
  const W = 720; const row = 26; const m = { l: 170, r: 60, t: 6, b: 6 };
  const H = Math.max(row * entries.length + m.t + m.b, 40);
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  const svg = frame('Requests by state', entries.length ? entries.map(([s, n]) => `${s.replaceAll('-', ' ')}: ${n}`).join(', ') : 'No requests yet.', W, H);
  const max = Math.max(1, ...entries.map(([, n]) => n));
  entries.forEach(([state, n], i) => {
    const y = m.t + i * row;
    const width = ((W - m.l - m.r) * n) / max;
    svg.append(h('text', { x: m.l - 8, y: y + row / 2 + 4, 'text-anchor': 'end', class: 'label' }, state.replaceAll('-', ' ')));
    svg.append(h('rect', { x: m.l, y: y + 4, width: Math.max(width, 1).toFixed(1), height: row - 8, class: `bar state-${state}` },
      h('title', null, `${state}: ${n} of ${total}`)));
    svg.append(h('text', { x: (m.l + width + 6).toFixed(1), y: y + row / 2 + 4, class: 'value' }, fmtInt(n)));
  });
  if (!entries.length) svg.append(h('text', { x: W / 2, y: H / 2 + 4, 'text-anchor': 'middle', class: 'empty' }, 'No requests yet'));
  return [svg];
}
