// Audit: verify now (hash chains, digest, invariants replayed), the last result, and the current digest.
import { api, ApiError } from '../api.js';
import { h, renderIfChanged } from '../dom.js';
import { badge, dl, fmtInt, time } from '../format.js';

export function mount(main, ctx) {
  const verify = h('button', { type: 'button', onclick: run }, 'Verify now');
  const progress = h('p', { class: 'result', role: 'status' });
  const last = h('section', { class: 'panel', 'aria-labelledby': 'last-h' });
  const digest = h('section', { class: 'panel', 'aria-labelledby': 'digest-h' });
  main.replaceChildren(
    h('h1', { tabindex: -1 }, 'Audit'),
    h('p', null, 'Verifying recomputes every hash chain and the digest, then replays every sourcing and ledger event against the agreements ',
      '(first refusal, exclusivity, waivers, terms, allocations). It reads the log and changes nothing.'),
    h('div', { class: 'actions' }, verify), progress,
    h('div', { class: 'grid two' }, last, digest));

  async function run() {
    verify.disabled = true;
    progress.textContent = 'Verifying the log…';
    try {
      const result = await api('/v1/audit/verify', { method: 'POST' });
      const text = result.passed
        ? `Verified ${fmtInt(result.eventsChecked)} events: the log is intact and every invariant holds.`
        : `Verification FAILED: ${result.violations.length + result.ledgerViolations.length} violations, ${result.integrity.findings.length} integrity findings.`;
      progress.textContent = text;
      ctx.announce(text);
      await refresh();
    } catch (error) {
      progress.textContent = error instanceof ApiError ? `The broker refused: ${error.message}` : `Could not reach the broker: ${error.message}`;
    } finally {
      verify.disabled = false;
    }
  }

  async function refresh() {
    const status = await api('/v1/audit/status');
    const r = status.last;
    renderIfChanged(last, r, () => [
      h('h2', { id: 'last-h' }, 'Last result'),
      !r
        ? h('p', { class: 'muted' }, 'No audit has run on this server since it started. Press Verify now.')
        : [
          h('p', { class: 'status-line' }, badge(r.passed ? 'passed' : 'failed'), ' checked ', time(r.checkedAt, { seconds: true })),
          dl([
            ['Events checked', fmtInt(r.eventsChecked)],
            ['Streams', fmtInt(r.integrity.streamCount)],
            ['Hash chains', r.integrity.passed ? 'intact' : `${r.integrity.findings.length} findings`],
            ['Digest compared', r.integrity.digestChecked ? 'yes' : 'no (none given)'],
            ['Workflow invariants', r.violations.length === 0 ? 'all hold (I1–I4)' : `${r.violations.length} violations`],
            ['Ledger', r.ledgerViolations.length === 0 ? 'consistent' : `${r.ledgerViolations.length} violations`],
            ['Root', h('code', { class: 'hash' }, r.integrity.root)],
          ]),
          problems('Integrity findings', r.integrity.findings),
          problems('Invariant violations', r.violations),
          problems('Ledger violations', r.ledgerViolations),
        ],
    ]);
    const d = status.digest;
    renderIfChanged(digest, d, () => [
      h('h2', { id: 'digest-h' }, 'Current digest'),
      h('p', { class: 'muted' }, 'Keep a copy outside the database: a later verify against it detects any rewrite of the log.'),
      dl([
        ['Root', h('code', { class: 'hash' }, d.root)],
        ['Events', fmtInt(d.eventCount)],
        ['Streams', fmtInt(d.streamCount)],
        ['Global position', fmtInt(d.globalPosition)],
        ['Taken', time(d.createdAt, { seconds: true })],
        ['Algorithm', d.algorithm],
      ]),
      h('details', null, h('summary', null, 'Digest document (JSON)'), h('pre', null, JSON.stringify(d, null, 2))),
    ]);
  }

  return { refresh };
}

function problems(title, items) {
  if (!items?.length) return null;
  return h('div', null, h('h3', null, title), h('ul', { class: 'problems' }, items.map((x) => h('li', null, typeof x === 'string' ? x : (x.message ?? x.detail ?? JSON.stringify(x))))));
}
