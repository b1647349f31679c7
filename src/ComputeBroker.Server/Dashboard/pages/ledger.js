// Ledger: revenue share statements per payee and period, and spend commitments' progress.
import { api, query } from '../api.js';
import { h, renderIfChanged } from '../dom.js';
import { clearErrors, field, formError, showErrors, showProblem } from '../forms.js';
import { fmtDate, fmtMoney, fmtPercent, time } from '../format.js';

export function mount(main, ctx) {
  const payee = h('input', { type: 'text', name: 'payee', list: 'payees', autocomplete: 'off' });
  const from = h('input', { type: 'date', name: 'from' });
  const to = h('input', { type: 'date', name: 'to' });
  const payees = h('datalist', { id: 'payees' });
  const statementBox = h('div', { 'aria-live': 'polite' });
  const commitmentsBox = h('div');
  const download = h('button', { type: 'button', class: 'secondary', onclick: downloadCsv, hidden: true }, 'Download CSV');
  const form = h('form', { class: 'filters', novalidate: true, 'aria-label': 'Statement' },
    field('statement-payee', 'Payee', payee, 'Who receives the revenue share, e.g. microsoft.'),
    field('statement-from', 'Periods from (UTC)', from),
    field('statement-to', 'Periods before (UTC)', to),
    formError(),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Show statement'), download));

  main.replaceChildren(
    h('h1', { tabindex: -1 }, 'Ledger'),
    h('section', { class: 'panel', 'aria-labelledby': 'statement-h' },
      h('h2', { id: 'statement-h' }, 'Revenue share statement'), payees, form, statementBox),
    h('section', { class: 'panel', 'aria-labelledby': 'commitments-h' },
      h('h2', { id: 'commitments-h' }, 'Spend commitments'), commitmentsBox));

  let selected = null; // { payee, from, to } once a statement was asked for
  let initialised = false;

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const errors = [
      [payee, payee.value.trim() ? null : 'Name the payee, e.g. microsoft.'],
      [to, from.value && to.value && to.value <= from.value ? 'The end must be after the start.' : null],
    ];
    if (showErrors(form, errors)) return;
    selected = { payee: payee.value.trim(), from: from.value, to: to.value };
    try {
      await refreshStatement();
    } catch (error) {
      showProblem(form, error, { payee, from, to });
    }
  });

  async function initialise() {
    // Offer the payees of the revenue-share clauses the key can see, and show the first one's statement.
    const list = await api('/v1/agreements');
    const names = new Set();
    for (const a of list) {
      const detail = await api(`/v1/agreements/${encodeURIComponent(a.id)}`);
      for (const v of detail.versions) for (const c of v.clauses) if (c.kind === 'revenue-share' && c.payee) names.add(c.payee);
    }
    payees.replaceChildren(...[...names].map((n) => h('option', { value: n })));
    if (!selected && names.size > 0) {
      payee.value = [...names][0];
      selected = { payee: payee.value, from: '', to: '' };
    }
    initialised = true;
  }

  async function refreshStatement() {
    if (!selected) {
      renderIfChanged(statementBox, 'none', () => h('p', { class: 'muted' }, 'Name a payee to see its statement.'));
      return;
    }
    const statement = await api(`/v1/ledger/statement${query({ payee: selected.payee, from: selected.from, to: selected.to })}`);
    download.hidden = false;
    renderIfChanged(statementBox, statement, () => [
      statement.lines.length === 0
        ? h('p', { class: 'muted' }, `No revenue share accrued to ${statement.payee}${selected.from || selected.to ? ' in these periods' : ''} yet. Shares accrue when the customer records a period's revenue and profit.`)
        : h('table', { class: 'data' },
          h('caption', null, `Statement for ${statement.payee}`),
          h('thead', null, h('tr', null, ['Period', 'Agreement', 'Clause', 'Payer', 'Days in force', 'Basis', 'Accrued', 'Cumulative', 'Cap remaining'].map((x) => h('th', { scope: 'col' }, x)))),
          h('tbody', null, statement.lines.map((l) => h('tr', null,
            h('th', { scope: 'row' }, `${fmtDate(l.periodStart)} – ${fmtDate(l.periodEnd)}`),
            h('td', null, l.agreement), h('td', null, l.clause), h('td', null, l.payer), h('td', { class: 'num' }, l.daysInForce),
            h('td', { class: 'num' }, fmtMoney(l.basis)), h('td', { class: 'num' }, fmtMoney(l.accrued)),
            h('td', { class: 'num' }, fmtMoney(l.cumulative)), h('td', { class: 'num' }, l.capRemaining ? fmtMoney(l.capRemaining) : 'no cap')))),
          h('tfoot', null, Object.entries(statement.totals).map(([currency, total]) => h('tr', null,
            h('th', { scope: 'row', colspan: 6 }, `Total (${currency})`), h('td', { class: 'num' }, fmtMoney(total)), h('td', { colspan: 2 }))))),
    ]);
  }

  async function refreshCommitments() {
    const commitments = await api('/v1/ledger/commitments');
    renderIfChanged(commitmentsBox, commitments, () => commitments.length === 0
      ? h('p', { class: 'muted' }, 'No spend commitment is in force.')
      : h('table', { class: 'data' },
        h('caption', { class: 'visually-hidden' }, 'Spend commitments'),
        h('thead', null, h('tr', null, ['Commitment', 'Provider', 'Progress', 'Spent', 'Amount', 'Deadline', 'Projected shortfall'].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', null, commitments.map((c) => h('tr', null,
          h('th', { scope: 'row' }, `${c.agreement} / ${c.clause}`), h('td', null, c.provider),
          h('td', null, h('div', { class: 'trigger' },
            h('progress', { max: 1, value: Math.min(1, Number(c.fraction)), 'aria-label': `${c.clause}: ${fmtPercent(c.fraction, 2)} spent` }),
            h('span', null, fmtPercent(c.fraction, 2)))),
          h('td', { class: 'num' }, fmtMoney(c.spent)), h('td', { class: 'num' }, fmtMoney(c.amount)),
          h('td', null, time(c.deadline)), h('td', { class: 'num' }, fmtMoney(c.projectedShortfall)))))));
  }

  async function downloadCsv() {
    try {
      const csv = await api(`/v1/ledger/statement${query({ payee: selected.payee, from: selected.from, to: selected.to, format: 'csv' })}`, { accept: 'text/csv' });
      const link = h('a', { href: URL.createObjectURL(new Blob([csv], { type: 'text/csv' })), download: `statement-${selected.payee}.csv` });
      document.body.append(link);
      link.click();
      link.remove();
      ctx.announce('Statement downloaded as CSV.');
    } catch (error) {
      showProblem(form, error, {});
    }
  }

  async function refresh() {
    if (!initialised) await initialise();
    await Promise.all([refreshStatement(), refreshCommitments()]);
  }

  return { refresh };
}
