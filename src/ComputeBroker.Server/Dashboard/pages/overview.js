// Overview: GPUs placed per provider over time, the holder's share, requests by state, open offers
// with live countdowns, and time to capacity (p50, p90).
import { api } from '../api.js';
import { holderShareChart, placementsChart, statesChart } from '../charts.js';
import { h, renderIfChanged, syncRows } from '../dom.js';
import { countdown, fmtDuration, fmtInt, fmtMoney, fmtPercent, REQUEST_STATES } from '../format.js';

export function mount(main, ctx) {
  const seesOffers = ['admin', 'auditor'].includes(ctx.session.kind);
  const kpis = h('div', { class: 'kpis' });
  const placed = h('div', { class: 'chart-box' });
  const share = h('div', { class: 'chart-box' });
  const states = h('div', { class: 'chart-box' });
  const offersBody = h('tbody');
  const offersCount = h('span', { class: 'count' });
  const offersEmpty = h('p', { class: 'muted', hidden: true }, 'No open offers.');

  main.replaceChildren(
    h('h1', { tabindex: -1 }, 'Overview'),
    h('section', { 'aria-label': 'Key figures' }, kpis),
    h('div', { class: 'grid two' },
      h('section', { class: 'panel', 'aria-labelledby': 'placed-h' }, h('h2', { id: 'placed-h' }, 'GPUs placed per provider over time'), placed),
      h('section', { class: 'panel', 'aria-labelledby': 'share-h' }, h('h2', { id: 'share-h' }, 'First-refusal holder’s share'), share)),
    h('div', { class: 'grid two' },
      h('section', { class: 'panel', 'aria-labelledby': 'states-h' }, h('h2', { id: 'states-h' }, 'Requests by state'), states),
      seesOffers
        ? h('section', { class: 'panel', 'aria-labelledby': 'offers-h' },
          h('h2', { id: 'offers-h' }, 'Open offers ', offersCount),
          h('table', { class: 'data compact' },
            h('caption', { class: 'visually-hidden' }, 'Open offers, soonest deadline first'),
            h('thead', null, h('tr', null, ['Provider', 'Request', 'GPUs', 'Price', 'Respond by'].map((x) => h('th', { scope: 'col' }, x)))),
            offersBody),
          offersEmpty)
        : null));

  async function refresh() {
    const [overview, series, offers] = await Promise.all([
      api('/v1/overview'),
      api('/v1/stats/placements'),
      seesOffers ? api('/v1/offers') : Promise.resolve(null),
    ]);
    const s = overview.summary;
    const total = Object.values(overview.requestsByState).reduce((a, b) => a + b, 0);
    renderIfChanged(kpis, [overview, series.holderShare], () => [
      kpi('Requests', fmtInt(total), `${fmtInt(s.requests)} closed`),
      kpi('GPUs placed', fmtInt(s.gpusPlaced), `of ${fmtInt(s.gpusRequested)} requested (closed requests)`),
      kpi('Holder share', fmtPercent(s.holderShare), s.holder ? `${s.holder}, first-refusal holder` : 'no first-refusal holder'),
      kpi('Time to capacity p50', fmtDuration(s.timeToCapacityP50), 'submission to last allocation'),
      kpi('Time to capacity p90', fmtDuration(s.timeToCapacityP90), `p99 ${fmtDuration(s.timeToCapacityP99)}`),
      kpi('Open offers', fmtInt(overview.openOffers), `${fmtInt(overview.openQuoteRequests)} open quote requests`),
    ]);
    renderIfChanged(placed, series, () => placementsChart(series));
    renderIfChanged(share, series, () => holderShareChart(series));
    renderIfChanged(states, overview.requestsByState, () => statesChart(overview.requestsByState, REQUEST_STATES));
    if (offers) {
      const shown = offers.slice(0, 8);
      offersCount.textContent = `(${offers.length})`;
      offersEmpty.hidden = offers.length > 0;
      syncRows(offersBody, shown, (o) => o.id, (o) => h('tr', null,
        h('td', null, o.provider),
        h('td', null, h('a', { href: `#/requests/${encodeURIComponent(o.requestId)}` }, o.requestId)),
        h('td', { class: 'num' }, fmtInt(o.gpus)),
        h('td', { class: 'num' }, fmtMoney(o.price)),
        h('td', null, countdown(o.respondBy))));
    }
  }

  return { refresh };
}

function kpi(label, value, note) {
  return h('div', { class: 'kpi' }, h('p', { class: 'kpi-label' }, label), h('p', { class: 'kpi-value' }, value), h('p', { class: 'kpi-note' }, note));
}
