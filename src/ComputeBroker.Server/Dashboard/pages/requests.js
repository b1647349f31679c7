// Requests: a filterable list (state, customer, provider), newest first, a page at a time.
import { api, query } from '../api.js';
import { h, syncRows } from '../dom.js';
import { badge, countdown, fmtInt, REQUEST_STATES, time } from '../format.js';

const PAGE_SIZE = 25;

export function mount(main, ctx) {
  const filters = { state: ctx.query.state ?? '', customer: ctx.query.customer ?? '', provider: ctx.query.provider ?? '' };
  const cursors = [null];
  let nextCursor = null;
  const isCustomer = ctx.session.kind === 'customer';

  const stateSelect = h('select', { id: 'filter-state', name: 'state' },
    h('option', { value: '' }, 'Any state'),
    REQUEST_STATES.map((s) => h('option', { value: s }, s.replaceAll('-', ' '))));
  stateSelect.value = filters.state;
  const customerInput = h('input', { id: 'filter-customer', name: 'customer', type: 'text', value: filters.customer, autocomplete: 'off' });
  const providerSelect = h('select', { id: 'filter-provider', name: 'provider' }, h('option', { value: '' }, 'Any provider'));
  const form = h('form', { class: 'filters', 'aria-label': 'Filter requests', onsubmit: apply },
    h('div', { class: 'field' }, h('label', { for: 'filter-state' }, 'State'), stateSelect),
    isCustomer ? null : h('div', { class: 'field' }, h('label', { for: 'filter-customer' }, 'Customer'), customerInput),
    h('div', { class: 'field' }, h('label', { for: 'filter-provider' }, 'Placed with'), providerSelect),
    h('div', { class: 'actions' },
      h('button', { type: 'submit' }, 'Apply filters'),
      h('button', { type: 'button', class: 'secondary', onclick: () => ctx.navigate('#/requests') }, 'Clear')));

  const tbody = h('tbody');
  const summary = h('p', { class: 'muted', 'aria-live': 'polite' });
  const newer = h('button', { type: 'button', class: 'secondary', onclick: () => { cursors.pop(); refresh(); } }, '← Newer');
  const older = h('button', { type: 'button', class: 'secondary', onclick: () => { cursors.push(nextCursor); refresh(); } }, 'Older →');

  main.replaceChildren(
    h('h1', { tabindex: -1 }, 'Requests'),
    form,
    h('section', { class: 'panel' },
      h('table', { class: 'data' },
        h('caption', null, 'Capacity requests, newest first'),
        h('thead', null, h('tr', null, ['Request', 'Customer', 'Class', 'Accelerator', 'GPUs', 'Allocated', 'State', 'Submitted', 'Next deadline'].map((x) => h('th', { scope: 'col' }, x)))),
        tbody),
      summary,
      h('div', { class: 'pager' }, newer, older)));

  api('/v1/providers').then((providers) => {
    for (const p of providers) providerSelect.append(h('option', { value: p.id }, p.name ? `${p.name} (${p.id})` : p.id));
    providerSelect.value = filters.provider;
  }).catch(ctx.reportError);

  function apply(event) {
    event.preventDefault();
    const q = query({ state: stateSelect.value, customer: isCustomer ? '' : customerInput.value.trim(), provider: providerSelect.value });
    ctx.navigate(`#/requests${q}`);
  }

  async function refresh() {
    const page = await api(`/v1/requests${query({ ...filters, limit: PAGE_SIZE, cursor: cursors[cursors.length - 1] })}`);
    nextCursor = page.nextCursor;
    newer.hidden = cursors.length <= 1;
    older.hidden = !nextCursor;
    const text = page.items.length === 0 ? 'No requests match these filters.' : `Showing ${page.items.length} requests${nextCursor ? '; older ones on the next page' : ''}.`;
    if (summary.textContent !== text) summary.textContent = text;
    syncRows(tbody, page.items, (r) => r.id, (r) => h('tr', null,
      h('th', { scope: 'row' }, h('a', { href: `#/requests/${encodeURIComponent(r.id)}` }, r.id)),
      h('td', null, r.customer),
      h('td', null, r.workloadClass),
      h('td', null, r.accelerator),
      h('td', { class: 'num' }, fmtInt(r.gpus)),
      h('td', { class: 'num' }, fmtInt(r.allocated)),
      h('td', null, badge(r.state)),
      h('td', null, time(r.submittedAt)),
      h('td', null, r.nextDeadline ? countdown(r.nextDeadline) : '—')));
  }

  return { refresh };
}
