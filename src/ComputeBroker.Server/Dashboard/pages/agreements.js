// Agreements: versions and clauses, a clause-by-clause diff between two versions, and every clause's
// status as of an instant (in force until, time left, each trigger's progress toward its threshold).
import { api, query } from '../api.js';
import { h, renderIfChanged } from '../dom.js';
import { field, showProblem, formError, clearErrors, utcInstant, showErrors } from '../forms.js';
import { badge, fmtDuration, fmtMoney, fmtPercent, fmtTime, time } from '../format.js';

const BASE_FIELDS = ['kind', 'id', 'from', 'until'];

export function mount(main, ctx) {
  const picker = h('div');
  const versions = h('section', { class: 'panel', 'aria-labelledby': 'versions-h' });
  const clauses = h('section', { class: 'panel', 'aria-labelledby': 'clauses-h' });
  const diff = h('section', { class: 'panel', 'aria-labelledby': 'diff-h' });
  const status = h('section', { class: 'panel', 'aria-labelledby': 'status-h' });
  main.replaceChildren(h('h1', { tabindex: -1 }, 'Agreements'), picker, versions, clauses, diff, status);

  let agreements = null;
  let agreementId = ctx.query.agreement ?? null;
  let agreement = null;
  let clauseVersion = null;
  let diffFrom = null;
  let diffTo = null;
  let asOf = '';

  // Clause status: as of now (live) or a chosen instant.
  const asOfInput = h('input', { type: 'datetime-local', name: 'asOf', step: 1 });
  const statusForm = h('form', { class: 'filters', novalidate: true, 'aria-label': 'Clause status as of' },
    field('status-as-of', 'As of (UTC; empty = now, live)', asOfInput),
    formError(),
    h('div', { class: 'actions' },
      h('button', { type: 'submit' }, 'Show status'),
      h('button', { type: 'button', class: 'secondary', onclick: () => { asOfInput.value = ''; asOf = ''; clearErrors(statusForm); refreshStatus(); } }, 'Now')));
  statusForm.addEventListener('submit', (event) => {
    event.preventDefault();
    clearErrors(statusForm);
    const at = utcInstant(asOfInput.value);
    if (showErrors(statusForm, [[asOfInput, at === undefined ? 'Give a date and time, or leave it empty for now.' : null]])) return;
    asOf = at ?? '';
    refreshStatus().catch((error) => showProblem(statusForm, error, { asOf: asOfInput }));
  });
  const statusBody = h('div');
  status.append(h('h2', { id: 'status-h' }, 'Clause status'), statusForm, statusBody);

  async function refresh() {
    const list = await api('/v1/agreements');
    if (JSON.stringify(list) !== JSON.stringify(agreements)) {
      agreements = list;
      agreementId ??= list[0]?.id ?? null;
      renderPicker();
    }
    if (!agreementId) {
      renderIfChanged(versions, 'none', () => [h('h2', { id: 'versions-h' }, 'Versions'), h('p', { class: 'muted' }, 'No agreement has been applied yet.')]);
    } else {
      const loaded = await api(`/v1/agreements/${encodeURIComponent(agreementId)}`);
      if (JSON.stringify(loaded) !== JSON.stringify(agreement)) {
        agreement = loaded;
        const numbers = agreement.versions.map((v) => v.number);
        clauseVersion = numbers.includes(clauseVersion) ? clauseVersion : numbers[numbers.length - 1];
        diffTo = numbers.includes(diffTo) ? diffTo : numbers[numbers.length - 1];
        diffFrom = numbers.includes(diffFrom) ? diffFrom : numbers[Math.max(0, numbers.length - 2)];
        renderVersions();
        renderClauses();
        renderDiffForm();
        await refreshDiff();
      }
    }
    await refreshStatus();
  }

  function renderPicker() {
    if (!agreements || agreements.length <= 1) {
      picker.replaceChildren(agreements?.length === 1 ? h('p', null, `Agreement ${agreements[0].id} between ${agreements[0].parties.join(' and ')}.`) : '');
      return;
    }
    const select = h('select', { id: 'agreement-pick' }, agreements.map((a) => h('option', { value: a.id }, `${a.id} (${a.parties.join(', ')})`)));
    select.value = agreementId;
    select.addEventListener('change', () => { agreementId = select.value; agreement = null; refresh().catch(ctx.reportError); });
    picker.replaceChildren(h('div', { class: 'filters' }, h('div', { class: 'field' }, h('label', { for: 'agreement-pick' }, 'Agreement'), select)));
  }

  function renderVersions() {
    versions.replaceChildren(
      h('h2', { id: 'versions-h' }, 'Versions'),
      h('table', { class: 'data' },
        h('caption', { class: 'visually-hidden' }, `Versions of ${agreement.id}`),
        h('thead', null, h('tr', null, ['Version', 'Effective from', 'Clauses', 'Note'].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', null, agreement.versions.map((v) => h('tr', null,
          h('th', { scope: 'row' }, `v${v.number}`), h('td', null, time(v.effectiveFrom)), h('td', { class: 'num' }, v.clauses.length), h('td', null, v.note ?? '—'))))));
  }

  function renderClauses() {
    const select = h('select', { id: 'clause-version' }, agreement.versions.map((v) => h('option', { value: v.number }, `Version ${v.number}`)));
    select.value = String(clauseVersion);
    select.addEventListener('change', () => { clauseVersion = Number(select.value); renderClauses(); document.getElementById('clause-version')?.focus(); });
    const version = agreement.versions.find((v) => v.number === clauseVersion);
    clauses.replaceChildren(
      h('h2', { id: 'clauses-h' }, 'Clauses'),
      h('div', { class: 'filters' }, h('div', { class: 'field' }, h('label', { for: 'clause-version' }, 'Show the clauses of'), select)),
      h('table', { class: 'data' },
        h('caption', { class: 'visually-hidden' }, `Clauses of version ${clauseVersion}`),
        h('thead', null, h('tr', null, ['Clause', 'Kind', 'From', 'Until', 'Terms'].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', null, version.clauses.map((c) => h('tr', null,
          h('th', { scope: 'row' }, c.id), h('td', null, c.kind), h('td', null, c.from ? time(c.from) : 'version start'),
          h('td', null, c.until ? time(c.until) : 'open'), h('td', null, terms(c)))))));
  }

  function renderDiffForm() {
    const options = () => agreement.versions.map((v) => h('option', { value: v.number }, `Version ${v.number}`));
    const from = h('select', { name: 'from' }, options());
    const to = h('select', { name: 'to' }, options());
    from.value = String(diffFrom);
    to.value = String(diffTo);
    const form = h('form', { class: 'filters', novalidate: true, 'aria-label': 'Compare versions' },
      field('diff-from', 'From version', from),
      field('diff-to', 'To version', to),
      formError(),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Compare')));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      clearErrors(form);
      diffFrom = Number(from.value);
      diffTo = Number(to.value);
      refreshDiff().catch((error) => showProblem(form, error, { from, to }));
    });
    diff.replaceChildren(h('h2', { id: 'diff-h' }, 'What changed between versions'), form, h('div', { id: 'diff-result', 'aria-live': 'polite' }));
  }

  async function refreshDiff() {
    const result = await api(`/v1/agreements/${encodeURIComponent(agreement.id)}/diff${query({ from: diffFrom, to: diffTo })}`);
    const box = diff.querySelector('#diff-result');
    renderIfChanged(box, result, () => [
      h('p', { class: 'muted' }, `Version ${result.from} (from `, time(result.fromEffective), `) to version ${result.to} (from `, time(result.toEffective), '): ',
        summarize(result.clauses)),
      h('table', { class: 'data diff' },
        h('caption', { class: 'visually-hidden' }, `Clause by clause, version ${result.from} to ${result.to}`),
        h('thead', null, h('tr', null, ['Clause', 'Kind', 'Change', 'Field', 'Before', 'After'].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', null, result.clauses.flatMap((c) => {
          const fields = c.fields.length ? c.fields : [null];
          return fields.map((f, i) => h('tr', { class: `change-${c.change}` },
            i === 0 ? h('th', { scope: 'row', rowspan: fields.length }, c.clause) : null,
            i === 0 ? h('td', { rowspan: fields.length }, c.kind) : null,
            i === 0 ? h('td', { rowspan: fields.length }, badge(c.change)) : null,
            h('td', null, f?.field ?? '—'),
            h('td', null, f ? fieldValue(f.field, f.before) : '—'),
            h('td', null, f ? fieldValue(f.field, f.after) : '—')));
        }))),
    ]);
  }

  async function refreshStatus() {
    const statuses = await api(`/v1/clauses/status${query({ asOf, agreement: agreementId })}`);
    // Live status changes every poll (time left); compare without it so rows only move when something real changes.
    renderIfChanged(statusBody, statuses.map((s) => ({ ...s, asOf: undefined, timeLeft: asOf ? s.timeLeft : undefined })), () => statusTable(statuses));
    if (!asOf) {
      for (const s of statuses) {
        const cell = statusBody.querySelector(`[data-time-left="${CSS.escape(`${s.agreement}/${s.clause}`)}"]`);
        if (cell) cell.textContent = fmtDuration(s.timeLeft);
      }
    }
  }

  function statusTable(statuses) {
    return h('table', { class: 'data' },
      h('caption', { class: 'visually-hidden' }, asOf ? `Clause status as of ${asOf}` : 'Clause status now'),
      h('thead', null, h('tr', null, ['Clause', 'Kind', 'Version', 'Status', 'In force until', 'Time left', 'Trigger progress', 'Terminated'].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', null, statuses.map((s) => h('tr', null,
        h('th', { scope: 'row' }, s.clause), h('td', null, s.kind), h('td', { class: 'num' }, `v${s.version}`),
        h('td', null, badge(s.state)),
        h('td', null, s.until ? time(s.until) : 'no end date'),
        h('td', { 'data-time-left': `${s.agreement}/${s.clause}` }, fmtDuration(s.timeLeft)),
        h('td', null, s.trigger ? trigger(s.trigger, s.clause) : '—'),
        h('td', null, s.terminatedAt ? [time(s.terminatedAt), s.terminatedBy ? ` by ${s.terminatedBy}` : ''] : '—')))));
  }

  return { refresh };
}

function trigger(t, clause) {
  const fraction = Math.min(1, Number(t.fraction));
  return h('div', { class: 'trigger' },
    h('progress', { max: 1, value: fraction, 'aria-label': `${clause}: ${fmtPercent(fraction)} of the threshold` }),
    h('span', null, `${fmtMoney(t.value)} of ${fmtMoney(t.threshold)} ${t.metric.replaceAll('-', ' ')} (${fmtPercent(fraction, 2)})`),
    t.firedAt ? h('span', null, ' fired ', time(t.firedAt)) : null);
}

/** A changed field's value (JSON text from the API) in words; "(none)" when the version lacks it. */
function fieldValue(name, json) {
  if (json === null || json === undefined) return h('span', { class: 'muted' }, '(none)');
  let value;
  try { value = JSON.parse(json); } catch { return h('code', null, json); }
  return value === null ? h('span', { class: 'muted' }, '(none)') : describe(name, value);
}

function summarize(changes) {
  const count = (kind) => changes.filter((c) => c.change === kind).length;
  return `${count('added')} added, ${count('removed')} removed, ${count('changed')} changed, ${count('unchanged')} unchanged.`;
}

/** The clause's own fields in words: "holder azure · scope: training, research · response window 5d". */
function terms(clause) {
  const parts = [];
  for (const [name, value] of Object.entries(clause)) {
    if (BASE_FIELDS.includes(name) || value === null || value === undefined) continue;
    const label = name.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`);
    parts.push(`${label} ${describe(name, value)}`);
  }
  return parts.join(' · ');
}

function describe(name, value) {
  if (name === 'rate') return fmtPercent(value, 2).replace(/\.00%$/, '%');
  if (Array.isArray(value)) return value.length ? value.join(', ') : 'none';
  if (typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => !(Array.isArray(v) && v.length === 0));
    return entries.length ? `(${entries.map(([k, v]) => `${k.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`)}: ${describe(k, v)}`).join('; ')})` : 'everything';
  }
  if (typeof value === 'string' && /^P(T|\d)/.test(value)) return fmtDuration(value);
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value)) return fmtTime(value);
  if (typeof value === 'string' && / [A-Z]{3}$/.test(value)) return fmtMoney(value);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return String(value);
}
