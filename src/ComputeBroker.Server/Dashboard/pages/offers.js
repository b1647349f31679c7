// Offers. A provider's key gets its inbox: open offers, quote requests and reservations, each with a
// countdown and the forms to answer (accept, accept part, decline, quote, confirm). Admins and
// auditors get a read-only view of every provider's open offers and quote requests.
import { api, query } from '../api.js';
import { h, syncList, syncRows } from '../dom.js';
import { clearErrors, field, formError, showErrors, showProblem, utcInstant, wholeNumber } from '../forms.js';
import { badge, countdown, dl, fmtDate, fmtInt, fmtMoney, parseMoney, time } from '../format.js';

export function mount(main, ctx) {
  return ctx.session.kind === 'provider' ? inbox(main, ctx) : readOnly(main, ctx);
}

const PAGE = 12;
/** Answered offers shown under "Answered recently". */
const HISTORY = 15;

/** A "Show more" button for a list cut to its first `shown` items; it grows the cut and re-renders. */
function moreButton(label, onMore) {
  return h('button', { type: 'button', class: 'secondary more', hidden: true, onclick: onMore }, label);
}

function setMore(button, total, shown, what) {
  button.hidden = total <= shown;
  const text = `Show more ${what} (${total - shown} not shown)`;
  if (button.textContent !== text) button.textContent = text;
}

const kindLabel = (kind) => ({ 'first-refusal': 'First-refusal offer', exclusive: 'Exclusive offer', match: 'Match offer' }[kind] ?? kind);
const regions = (list) => (list?.length ? list.join(', ') : 'any region');

function inbox(main, ctx) {
  const provider = ctx.session.subject;
  const offerList = h('ul', { class: 'cards', 'aria-label': 'Open offers' });
  const quoteList = h('ul', { class: 'cards', 'aria-label': 'Open quote requests' });
  const reservationList = h('ul', { class: 'cards', 'aria-label': 'Reservations to confirm' });
  const counts = { offers: h('span', { class: 'count' }), quotes: h('span', { class: 'count' }), reservations: h('span', { class: 'count' }) };
  const empty = {
    offers: h('p', { class: 'muted' }, 'No open offers. New ones appear here without a reload.'),
    quotes: h('p', { class: 'muted' }, 'No open quote requests.'),
    reservations: h('p', { class: 'muted' }, 'No reservations to confirm.'),
  };
  const history = h('tbody');
  const noHistory = h('p', { class: 'muted' }, 'Nothing answered yet.');
  const summary = h('p', { class: 'muted', 'aria-live': 'polite' });
  const shown = { offers: PAGE, quotes: PAGE, reservations: PAGE };
  const more = {
    offers: moreButton('', () => { shown.offers += PAGE; refresh().catch(ctx.reportError); }),
    quotes: moreButton('', () => { shown.quotes += PAGE; refresh().catch(ctx.reportError); }),
    reservations: moreButton('', () => { shown.reservations += PAGE; refresh().catch(ctx.reportError); }),
  };

  main.replaceChildren(
    h('h1', { tabindex: -1 }, `Inbox for ${provider}`),
    h('p', null, `Offers and quote requests for ${provider} only. Answer before the deadline: silence counts as a decline. Times are broker time (UTC).`),
    summary,
    h('section', { 'aria-labelledby': 'offers-h' }, h('h2', { id: 'offers-h' }, 'Open offers ', counts.offers), empty.offers, offerList, more.offers),
    h('section', { 'aria-labelledby': 'quotes-h' }, h('h2', { id: 'quotes-h' }, 'Quote requests ', counts.quotes), empty.quotes, quoteList, more.quotes),
    h('section', { 'aria-labelledby': 'reservations-h' }, h('h2', { id: 'reservations-h' }, 'Reservations to confirm ', counts.reservations), empty.reservations, reservationList, more.reservations),
    h('section', { class: 'panel', 'aria-labelledby': 'history-h' },
      h('h2', { id: 'history-h' }, 'Answered recently'),
      h('table', { class: 'data compact' },
        h('caption', { class: 'visually-hidden' }, 'Offers already answered or closed, newest first'),
        h('thead', null, h('tr', null, ['Offer', 'Request', 'Kind', 'GPUs', 'Outcome', 'Accepted', 'Reason', 'Offered'].map((x) => h('th', { scope: 'col' }, x)))),
        history),
      noHistory));

  let lastSummary = '';

  async function refresh() {
    // The answered offers come from the server newest first and cut to a few, however long the history.
    const [offers, quotes, reservations, answered] = await Promise.all([
      api('/v1/offers'), api('/v1/quote-requests'), api('/v1/reservations'), api(`/v1/offers${query({ state: 'answered', limit: HISTORY })}`),
    ]);
    // Soonest deadline first (the API's order); a page at a time so a busy inbox stays usable.
    syncList(offerList, offers.slice(0, shown.offers), (o) => o.id, (o) => offerCard(o, ctx));
    syncList(quoteList, quotes.slice(0, shown.quotes), (q) => q.requestId, (q) => quoteCard(q, ctx));
    syncList(reservationList, reservations.slice(0, shown.reservations), (r) => `${r.requestId}/${r.award}`, (r) => reservationCard(r, ctx));
    setMore(more.offers, offers.length, shown.offers, 'offers');
    setMore(more.quotes, quotes.length, shown.quotes, 'quote requests');
    setMore(more.reservations, reservations.length, shown.reservations, 'reservations');
    counts.offers.textContent = `(${offers.length})`;
    counts.quotes.textContent = `(${quotes.length})`;
    counts.reservations.textContent = `(${reservations.length})`;
    empty.offers.hidden = offers.length > 0;
    empty.quotes.hidden = quotes.length > 0;
    empty.reservations.hidden = reservations.length > 0;
    const text = `${offers.length} open offers, ${quotes.length} quote requests, ${reservations.length} reservations waiting.`;
    if (text !== lastSummary) { summary.textContent = text; lastSummary = text; }
    noHistory.hidden = answered.length > 0;
    syncRows(history, answered, (o) => o.id, (o) => h('tr', null,
      h('td', null, o.id), h('td', null, o.requestId), h('td', null, o.kind), h('td', { class: 'num' }, fmtInt(o.gpus)),
      h('td', null, badge(o.state)), h('td', { class: 'num' }, o.acceptedGpus ? fmtInt(o.acceptedGpus) : '—'),
      h('td', null, o.reason ?? '—'), h('td', null, time(o.offeredAt))));
  }

  return { refresh };
}

function offerCard(o, ctx) {
  const idPart = o.id.replace(/[^A-Za-z0-9_-]/g, '_');
  const gpus = h('input', { type: 'text', inputmode: 'numeric', name: 'gpus', value: String(o.gpus), autocomplete: 'off' });
  const reason = h('input', { type: 'text', name: 'reason', maxlength: 200, autocomplete: 'off' });
  const status = h('p', { class: 'result', role: 'status' });
  const acceptError = formError();
  const declineError = formError();

  const accept = h('form', { class: 'answer', novalidate: true, 'aria-label': `Accept offer ${o.id}` },
    o.partialAllowed
      ? field(`gpus-${idPart}`, `GPUs to accept (1–${o.gpus})`, gpus, `Fewer than ${fmtInt(o.gpus)} accepts part; the rest goes to the market.`)
      : h('p', { class: 'hint' }, 'This offer must be taken whole or declined.'),
    acceptError,
    h('div', { class: 'actions' },
      o.partialAllowed ? h('button', { type: 'submit', name: 'action', value: 'part' }, 'Accept part') : null,
      h('button', { type: 'submit', name: 'action', value: 'all', class: o.partialAllowed ? 'secondary' : null }, `Accept all ${fmtInt(o.gpus)}`)));
  const decline = h('form', { class: 'answer', novalidate: true, 'aria-label': `Decline offer ${o.id}` },
    field(`reason-${idPart}`, 'Reason for declining (optional)', reason),
    declineError,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'danger' }, 'Decline')));

  accept.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(accept);
    const all = event.submitter?.value === 'all' || !o.partialAllowed;
    let count = o.gpus;
    if (!all) {
      const parsed = wholeNumber(gpus.value, 1, o.gpus, 'GPUs');
      if (showErrors(accept, [[gpus, parsed.error]])) return;
      count = parsed.value;
    }
    await send(accept, `/v1/offers/${encodeURIComponent(o.id)}/accept`, { gpus: count }, { gpus },
      `Accepted ${fmtInt(count)} of ${fmtInt(o.gpus)} GPUs of offer ${o.id}.`);
  });
  decline.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(decline);
    const body = reason.value.trim() ? { reason: reason.value.trim() } : {};
    await send(decline, `/v1/offers/${encodeURIComponent(o.id)}/decline`, body, { reason }, `Declined offer ${o.id}.`);
  });

  async function send(form, path, body, controls, done) {
    const buttons = [...accept.querySelectorAll('button'), ...decline.querySelectorAll('button')];
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await api(path, { method: 'POST', body });
      status.textContent = done;
      ctx.announce(done);
    } catch (error) {
      buttons.forEach((b) => { b.disabled = false; });
      showProblem(form, error, controls);
    }
  }

  return h('li', { class: 'card' },
    h('article', { 'aria-labelledby': `offer-${idPart}-h` },
      h('h3', { id: `offer-${idPart}-h` }, `${kindLabel(o.kind)}: ${fmtInt(o.gpus)} × ${o.accelerator}`),
      h('p', { class: 'deadline' }, 'Respond by ', time(o.respondBy), ' · ', countdown(o.respondBy)),
      dl([
        ['Offer', o.id],
        ['Request', o.requestId],
        ['Workload', o.workloadClass],
        ['Price', `${fmtMoney(o.price)} per GPU-hour`],
        ['Start', `${fmtDate(o.earliestStart)}, ${fmtInt(o.durationHours)} h`],
        ['Regions', regions(o.regions)],
        ['Part allowed', o.partialAllowed ? 'yes' : 'no'],
      ], 'facts compact'),
      disclosure(`answer-${idPart}`, 'Answer this offer', h('div', { class: 'answers' }, accept, decline)),
      status));
}

/** A button that shows and hides a card's forms (aria-expanded), focusing the first field on opening. */
function disclosure(id, label, content) {
  const panel = h('div', { id, class: 'answer-panel', hidden: true }, content);
  const button = h('button', { type: 'button', class: 'secondary toggle', 'aria-expanded': 'false', 'aria-controls': id }, label);
  button.addEventListener('click', () => {
    const open = panel.hidden;
    panel.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
    if (open) panel.querySelector('input, select, button')?.focus();
  });
  return [button, panel];
}

function quoteCard(q, ctx) {
  const idPart = q.requestId.replace(/[^A-Za-z0-9_-]/g, '_');
  const ceiling = parseMoney(q.ceiling);
  const currency = ceiling?.currency ?? 'USD';
  const gpus = h('input', { type: 'text', inputmode: 'numeric', name: 'gpus', value: String(q.gpus), autocomplete: 'off' });
  const price = h('input', { type: 'text', inputmode: 'decimal', name: 'price', autocomplete: 'off', placeholder: ceiling ? ceiling.amount.toFixed(2) : '' });
  const start = h('input', { type: 'datetime-local', name: 'start' });
  const validUntil = h('input', { type: 'datetime-local', name: 'validUntil' });
  const reason = h('input', { type: 'text', name: 'reason', maxlength: 200, autocomplete: 'off' });
  const status = h('p', { class: 'result', role: 'status' });
  const quoteForm = h('form', { class: 'answer', novalidate: true, 'aria-label': `Quote for request ${q.requestId}` },
    h('div', { class: 'row' },
      field(`qgpus-${idPart}`, `GPUs available (1–${q.gpus})`, gpus),
      field(`qprice-${idPart}`, `Price per GPU-hour (${currency})`, price, `Ceiling ${fmtMoney(q.ceiling)}: a quote above it cannot win.`)),
    h('div', { class: 'row' },
      field(`qstart-${idPart}`, 'Start (UTC, optional)', start, `Default: the request’s start, ${fmtDate(q.earliestStart)}.`),
      field(`qvalid-${idPart}`, 'Valid until (UTC, optional)', validUntil, 'Default: the broker’s quote validity.')),
    formError(),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Send quote')));
  const declineForm = h('form', { class: 'answer', novalidate: true, 'aria-label': `Decline quote request ${q.requestId}` },
    field(`qreason-${idPart}`, 'Reason for declining (optional)', reason),
    formError(),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'danger' }, 'Decline')));

  quoteForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(quoteForm);
    const count = wholeNumber(gpus.value, 1, q.gpus, 'GPUs');
    const amount = price.value.trim();
    const priceError = !amount ? 'Give a price per GPU-hour, e.g. 11.50.'
      : !/^\d+(\.\d{1,4})?$/.test(amount) || Number(amount) <= 0 ? 'The price must be a positive amount with at most 4 decimals, e.g. 11.50.' : null;
    const startAt = utcInstant(start.value);
    const validAt = utcInstant(validUntil.value);
    if (showErrors(quoteForm, [
      [gpus, count.error], [price, priceError],
      [start, startAt === undefined ? 'Give a date and time, or leave it empty.' : null],
      [validUntil, validAt === undefined ? 'Give a date and time, or leave it empty.' : null],
    ])) return;
    const body = { gpus: count.value, price: `${amount} ${currency}` };
    if (startAt) body.start = startAt;
    if (validAt) body.validUntil = validAt;
    await send(quoteForm, `/v1/quote-requests/${encodeURIComponent(q.requestId)}/quote`, body,
      { gpus, price, start, validUntil }, `Quoted ${fmtInt(count.value)} GPUs at ${amount} ${currency} for request ${q.requestId}.`);
  });
  declineForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(declineForm);
    const body = reason.value.trim() ? { reason: reason.value.trim() } : {};
    await send(declineForm, `/v1/quote-requests/${encodeURIComponent(q.requestId)}/decline`, body, { reason }, `Declined the quote request for ${q.requestId}.`);
  });

  async function send(form, path, body, controls, done) {
    const buttons = [...quoteForm.querySelectorAll('button'), ...declineForm.querySelectorAll('button')];
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await api(path, { method: 'POST', body });
      status.textContent = done;
      ctx.announce(done);
    } catch (error) {
      buttons.forEach((b) => { b.disabled = false; });
      showProblem(form, error, controls);
    }
  }

  return h('li', { class: 'card' },
    h('article', { 'aria-labelledby': `quote-${idPart}-h` },
      h('h3', { id: `quote-${idPart}-h` }, `Quote request: ${fmtInt(q.gpus)} × ${q.accelerator}`),
      h('p', { class: 'deadline' }, 'Quote by ', time(q.deadline), ' · ', countdown(q.deadline)),
      dl([
        ['Request', q.requestId],
        ['Workload', q.workloadClass],
        ['Ceiling', `${fmtMoney(q.ceiling)} per GPU-hour`],
        ['Start', `${fmtDate(q.earliestStart)}, ${fmtInt(q.durationHours)} h`],
        ['Regions', regions(q.regions)],
      ], 'facts compact'),
      disclosure(`answer-q-${idPart}`, 'Answer this quote request', h('div', { class: 'answers' }, quoteForm, declineForm)),
      status));
}

function reservationCard(r, ctx) {
  const idPart = `${r.requestId}-${r.award}`.replace(/[^A-Za-z0-9_-]/g, '_');
  const reason = h('input', { type: 'text', name: 'reason', maxlength: 200, autocomplete: 'off' });
  const status = h('p', { class: 'result', role: 'status' });
  const form = h('form', { class: 'answer', novalidate: true, 'aria-label': `Reservation of award ${r.award} for ${r.requestId}` },
    field(`rreason-${idPart}`, 'Reason, if it cannot be reserved', reason),
    formError(),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', name: 'action', value: 'confirm' }, 'Confirm reservation'),
      h('button', { type: 'submit', name: 'action', value: 'fail', class: 'danger' }, 'Cannot reserve')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const confirm = event.submitter?.value !== 'fail';
    const path = `/v1/reservations/${encodeURIComponent(r.requestId)}/${r.award}/${confirm ? 'confirm' : 'fail'}`;
    const body = reason.value.trim() ? { reason: reason.value.trim() } : {};
    form.querySelectorAll('button').forEach((b) => { b.disabled = true; });
    try {
      await api(path, { method: 'POST', body });
      const done = `${confirm ? 'Confirmed' : 'Reported as failed'}: award ${r.award} of ${r.requestId}.`;
      status.textContent = done;
      ctx.announce(done);
    } catch (error) {
      form.querySelectorAll('button').forEach((b) => { b.disabled = false; });
      showProblem(form, error, { reason });
    }
  });
  return h('li', { class: 'card' },
    h('article', { 'aria-labelledby': `res-${idPart}-h` },
      h('h3', { id: `res-${idPart}-h` }, `Award ${r.award}: ${fmtInt(r.gpus)} GPUs at ${fmtMoney(r.price)}`),
      h('p', { class: 'deadline' }, 'Reserve by ', time(r.respondBy), ' · ', countdown(r.respondBy)),
      dl([['Request', r.requestId], ['Start', fmtDate(r.start)]], 'facts compact'),
      form, status));
}

function readOnly(main, ctx) {
  const offers = h('tbody');
  const quotes = h('tbody');
  const counts = { offers: h('span', { class: 'count' }), quotes: h('span', { class: 'count' }) };
  const summary = h('p', { class: 'muted', 'aria-live': 'polite' });
  main.replaceChildren(
    h('h1', { tabindex: -1 }, 'Offers'),
    h('p', null, `Every provider’s open offers and quote requests. Only a provider’s own key can answer them${ctx.session.kind === 'auditor' ? '; an auditor’s key reads only' : ''}.`),
    summary,
    h('section', { class: 'panel', 'aria-labelledby': 'offers-h' },
      h('h2', { id: 'offers-h' }, 'Open offers ', counts.offers),
      h('table', { class: 'data' },
        h('caption', { class: 'visually-hidden' }, 'Open offers, soonest deadline first'),
        h('thead', null, h('tr', null, ['Provider', 'Offer', 'Request', 'Kind', 'GPUs', 'Price', 'Part allowed', 'Respond by', 'Time left'].map((x) => h('th', { scope: 'col' }, x)))),
        offers)),
    h('section', { class: 'panel', 'aria-labelledby': 'quotes-h' },
      h('h2', { id: 'quotes-h' }, 'Open quote requests ', counts.quotes),
      h('table', { class: 'data' },
        h('caption', { class: 'visually-hidden' }, 'Open quote requests, soonest deadline first'),
        h('thead', null, h('tr', null, ['Provider', 'Request', 'GPUs', 'Accelerator', 'Ceiling', 'Quote by', 'Time left'].map((x) => h('th', { scope: 'col' }, x)))),
        quotes)));

  let last = '';
  const shown = { offers: 2 * PAGE, quotes: 2 * PAGE };
  const more = {
    offers: moreButton('', () => { shown.offers += 2 * PAGE; refresh().catch(ctx.reportError); }),
    quotes: moreButton('', () => { shown.quotes += 2 * PAGE; refresh().catch(ctx.reportError); }),
  };
  offers.closest('section').append(more.offers);
  quotes.closest('section').append(more.quotes);

  async function refresh() {
    const [allOffers, allQuotes] = await Promise.all([api('/v1/offers'), api('/v1/quote-requests')]);
    const o = allOffers.slice(0, shown.offers);
    const q = allQuotes.slice(0, shown.quotes);
    setMore(more.offers, allOffers.length, o.length, 'offers');
    setMore(more.quotes, allQuotes.length, q.length, 'quote requests');
    counts.offers.textContent = `(${allOffers.length})`;
    counts.quotes.textContent = `(${allQuotes.length})`;
    const text = `${allOffers.length} open offers and ${allQuotes.length} open quote requests, soonest deadline first.`;
    if (text !== last) { summary.textContent = text; last = text; }
    syncRows(offers, o, (x) => x.id, (x) => h('tr', null,
      h('td', null, x.provider), h('td', null, x.id),
      h('td', null, h('a', { href: `#/requests/${encodeURIComponent(x.requestId)}` }, x.requestId)),
      h('td', null, x.kind), h('td', { class: 'num' }, fmtInt(x.gpus)), h('td', { class: 'num' }, fmtMoney(x.price)),
      h('td', null, x.partialAllowed ? 'yes' : 'no'), h('td', null, time(x.respondBy)), h('td', null, countdown(x.respondBy))));
    syncRows(quotes, q, (x) => `${x.requestId}/${x.provider}`, (x) => h('tr', null,
      h('td', null, x.provider),
      h('td', null, h('a', { href: `#/requests/${encodeURIComponent(x.requestId)}` }, x.requestId)),
      h('td', { class: 'num' }, fmtInt(x.gpus)), h('td', null, x.accelerator), h('td', { class: 'num' }, fmtMoney(x.ceiling)),
      h('td', null, time(x.deadline)), h('td', null, countdown(x.deadline))));
  }

  return { refresh };
}
