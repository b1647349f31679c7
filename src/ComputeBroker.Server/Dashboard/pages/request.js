// One request: its terms, its allocations, and its timeline (each event: when, what, who, and why).
import { api, ApiError } from '../api.js';
import { h, renderIfChanged } from '../dom.js';
import { badge, countdown, dl, fmtDate, fmtInt, fmtMoney, TERMINAL_STATES, time } from '../format.js';

export function mount(main, ctx) {
  const id = ctx.params.join('/');
  const canCancel = ['admin', 'customer'].includes(ctx.session.kind);
  const heading = h('h1', { tabindex: -1 }, `Request ${id}`);
  const header = h('div', { class: 'request-head' });
  const terms = h('section', { class: 'panel', 'aria-labelledby': 'terms-h' });
  const allocations = h('section', { class: 'panel', 'aria-labelledby': 'alloc-h' });
  const timeline = h('section', { class: 'panel', 'aria-labelledby': 'timeline-h' });
  const actions = h('div', { class: 'actions' });
  const result = h('p', { class: 'result', role: 'status' });

  main.replaceChildren(
    h('p', { class: 'breadcrumb' }, h('a', { href: '#/requests' }, '← All requests')),
    heading, header, actions, result,
    h('div', { class: 'grid two' }, terms, allocations),
    timeline);

  async function refresh() {
    let detail;
    try {
      detail = await api(`/v1/requests/${encodeURIComponent(id)}`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        renderIfChanged(header, 'missing', () => h('p', { class: 'error' }, `There is no request ${id} that this key may see.`));
        return;
      }
      throw error;
    }

    const r = detail.request;
    renderIfChanged(header, [r.state, r.nextDeadline, r.route, r.holder], () => h('p', { class: 'status-line' },
      badge(r.state),
      r.route ? ` route: ${r.route.replaceAll('-', ' ')}${r.holder ? ` (holder ${r.holder})` : ''}` : '',
      r.nextDeadline ? [' · next deadline ', countdown(r.nextDeadline)] : ''));

    renderIfChanged(actions, [canCancel, TERMINAL_STATES.includes(r.state)], () =>
      canCancel && !TERMINAL_STATES.includes(r.state)
        ? h('button', { type: 'button', class: 'danger', onclick: cancel }, 'Cancel this request')
        : null);

    renderIfChanged(terms, r, () => [
      h('h2', { id: 'terms-h' }, 'Terms'),
      dl([
        ['Customer', r.customer],
        ['Workload', `${r.workloadClass}, ${fmtInt(r.gpus)} × ${r.accelerator}`],
        ['Regions', r.regions.length ? r.regions.join(', ') : 'any'],
        ['Start', `${fmtDate(r.earliestStart)}, for ${fmtInt(r.durationHours)} h`],
        ['Maximum price', `${fmtMoney(r.maxPrice)} per GPU-hour`],
        ['Needed by', time(r.neededBy)],
        ['All or nothing', r.allOrNothing ? 'yes' : 'no, may be split'],
        ['Submitted', time(r.submittedAt)],
        ['Allocated', `${fmtInt(r.allocated)} GPUs${r.unfulfilled !== null && r.unfulfilled !== undefined ? `, ${fmtInt(r.unfulfilled)} unfulfilled` : ''}`],
        r.reason ? ['Reason', r.reason] : null,
        r.closedAt ? ['Closed', time(r.closedAt)] : null,
      ]),
    ]);

    renderIfChanged(allocations, r.allocations, () => [
      h('h2', { id: 'alloc-h' }, 'Allocations'),
      r.allocations.length === 0
        ? h('p', { class: 'muted' }, 'No GPUs allocated yet.')
        : h('table', { class: 'data compact' },
          h('caption', { class: 'visually-hidden' }, 'Allocations of this request'),
          h('thead', null, h('tr', null, ['Provider', 'GPUs', 'Price', 'Start', 'How', 'When'].map((x) => h('th', { scope: 'col' }, x)))),
          h('tbody', null, r.allocations.map((a) => h('tr', null,
            h('td', null, a.provider), h('td', { class: 'num' }, fmtInt(a.gpus)), h('td', { class: 'num' }, fmtMoney(a.price)),
            h('td', null, fmtDate(a.start)), h('td', null, a.source), h('td', null, time(a.at)))))),
    ]);

    renderIfChanged(timeline, detail.timeline.map((t) => t.version), () => [
      h('h2', { id: 'timeline-h' }, 'Timeline'),
      h('table', { class: 'data timeline' },
        h('caption', { class: 'visually-hidden' }, 'Every event of this request, oldest first'),
        h('thead', null, h('tr', null, ['When', 'What', 'Who', 'Why / details'].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', null, detail.timeline.map((t) => h('tr', { 'data-type': t.type },
          h('td', null, time(t.at, { seconds: true })),
          h('th', { scope: 'row' }, t.what),
          h('td', null, t.who ?? 'broker'),
          h('td', null, t.detail))))),
    ]);
  }

  async function cancel(event) {
    const button = event.currentTarget;
    if (button.dataset.confirming !== 'yes') {
      button.dataset.confirming = 'yes';
      button.textContent = 'Confirm: cancel this request';
      result.textContent = 'Press again to cancel the request; GPUs already allocated are given back.';
      return;
    }
    button.disabled = true;
    try {
      await api(`/v1/requests/${encodeURIComponent(id)}/cancel`, { method: 'POST' });
      result.textContent = `Request ${id} cancelled.`;
      ctx.announce(`Request ${id} cancelled.`);
      await refresh();
    } catch (error) {
      button.disabled = false;
      result.textContent = error instanceof ApiError ? `The broker refused: ${error.message}` : `Could not reach the broker: ${error.message}`;
    }
  }

  return { refresh };
}
