// Sign in with an API key. The key stays in this tab's sessionStorage and goes only to this broker.
import { api, ApiError } from '../api.js';
import { h } from '../dom.js';

export function mount(main, { onSignedIn, message }) {
  const error = h('p', { id: 'key-error', class: 'error', hidden: true });
  const input = h('input', {
    id: 'api-key', name: 'key', type: 'password', autocomplete: 'off', spellcheck: 'false',
    required: true, 'aria-describedby': 'key-hint key-error',
  });
  const button = h('button', { type: 'submit' }, 'Sign in');
  const form = h('form', { class: 'signin panel', novalidate: true, onsubmit: submit },
    h('div', { class: 'field' },
      h('label', { for: 'api-key' }, 'API key'),
      input,
      h('p', { id: 'key-hint', class: 'hint' },
        'Paste a key (cbk_…). ', h('code', null, 'broker serve --demo'), ' writes an admin key to ', h('code', null, '<db>.admin-key'),
        '; an admin creates others (roles admin, auditor, customer:ID, provider:ID) with ', h('code', null, 'POST /v1/keys'), '.')),
    error,
    h('div', { class: 'actions' }, button));

  main.replaceChildren(
    h('h1', { tabindex: -1 }, 'Sign in'),
    message ? h('p', { class: 'notice', role: 'status' }, message) : null,
    h('p', null, 'The dashboard uses the same keys and roles as the API: an admin and an auditor see everything ',
      '(an auditor changes nothing), a customer sees its own requests, a provider sees and answers only its own offers.'),
    form);
  input.focus();

  function fail(text) {
    error.textContent = text;
    error.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  }

  async function submit(event) {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) return fail('Paste an API key to sign in.');
    if (!key.startsWith('cbk_')) return fail('An API key starts with cbk_; check that you pasted the whole key.');
    button.disabled = true;
    try {
      const whoami = await api('/v1/whoami', { key });
      error.hidden = true;
      input.removeAttribute('aria-invalid');
      await onSignedIn(key, whoami);
    } catch (e) {
      button.disabled = false;
      if (e instanceof ApiError && e.status === 401) fail('The broker does not know this key, or it was revoked.');
      else fail(`Could not reach the broker: ${e.message}`);
    }
  }

  return {};
}
