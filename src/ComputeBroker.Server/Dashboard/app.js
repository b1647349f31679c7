// The dashboard shell: sign-in, the role's navigation, hash routes, polling every 2 s, and countdowns
// that tick every second. Pages are modules exporting mount(main, ctx) -> { refresh() }.
import { api, ApiError, clearKey, storedKey, storeKey } from './api.js';
import { brokerNow, clockSpeed, syncClock, tickCountdowns } from './clock.js';
import { h } from './dom.js';
import { fmtTime } from './format.js';
import * as overview from './pages/overview.js';
import * as requests from './pages/requests.js';
import * as request from './pages/request.js';
import * as offers from './pages/offers.js';
import * as agreements from './pages/agreements.js';
import * as ledger from './pages/ledger.js';
import * as audit from './pages/audit.js';
import * as signin from './pages/signin.js';

const POLL_MS = 2000;

/** Which roles see which page; the server enforces the same rules on every call. */
const ROUTES = [
  { path: 'overview', label: 'Overview', roles: ['admin', 'auditor', 'customer'], page: overview },
  { path: 'requests', label: 'Requests', roles: ['admin', 'auditor', 'customer'], page: requests },
  { path: 'offers', label: 'Offers', providerLabel: 'Inbox', roles: ['admin', 'auditor', 'provider'], page: offers },
  { path: 'agreements', label: 'Agreements', roles: ['admin', 'auditor', 'customer'], page: agreements },
  { path: 'ledger', label: 'Ledger', roles: ['admin', 'auditor', 'customer'], page: ledger },
  { path: 'audit', label: 'Audit', roles: ['admin', 'auditor'], page: audit },
];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const navLinks = document.getElementById('nav-links');
const sessionBox = document.getElementById('session');
const roleBox = document.getElementById('role');
const clockBox = document.getElementById('broker-clock');
const banner = document.getElementById('banner');
const announcer = document.getElementById('announcer');
const updated = document.getElementById('updated');

let session = null;
let current = null;
let pollTimer = null;
let generation = 0;

/** Parses "provider:azure" into { kind: 'provider', subject: 'azure' }. */
function parseRole(role) {
  const [kind, subject = null] = role.split(':');
  return { kind, subject, text: role };
}

export function announce(message) {
  announcer.textContent = '';
  // A fresh text node makes screen readers speak the same message twice in a row too.
  setTimeout(() => { announcer.textContent = message; }, 50);
}

function showBanner(message) {
  if (!message) {
    banner.hidden = true;
    banner.textContent = '';
    return;
  }
  if (banner.textContent !== message) banner.textContent = message;
  banner.hidden = false;
}

function routeOf(hash) {
  const raw = hash.replace(/^#\/?/, '');
  const [pathPart, queryPart = ''] = raw.split('?');
  const segments = pathPart.split('/').filter(Boolean).map(decodeURIComponent);
  return { segments, query: Object.fromEntries(new URLSearchParams(queryPart)) };
}

function defaultPath() {
  return session.kind === 'provider' ? 'offers' : 'overview';
}

function renderNav() {
  navLinks.replaceChildren(...ROUTES.filter((r) => r.roles.includes(session.kind)).map((r) =>
    h('li', null, h('a', { href: `#/${r.path}`, 'data-path': r.path }, session.kind === 'provider' && r.providerLabel ? r.providerLabel : r.label))));
  nav.hidden = false;
  sessionBox.hidden = false;
  roleBox.textContent = session.text;
  roleBox.title = `Signed in with a ${session.kind} key (${session.keyId})`;
}

function markCurrent(path) {
  for (const link of navLinks.querySelectorAll('a')) {
    if (link.dataset.path === path) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

async function refreshClock() {
  const clock = await api('/v1/clock');
  syncClock(clock.now, clock.speed);
}

function renderClock() {
  if (!session) return;
  const speed = clockSpeed();
  clockBox.textContent = `${fmtTime(new Date(brokerNow()).toISOString())}${speed > 1 ? ` (${speed.toLocaleString('en-US')}×)` : ''}`;
  clockBox.title = speed > 1 ? `Broker time; the broker's clock runs ${speed.toLocaleString('en-US')} times faster than real time` : 'Broker time';
}

async function poll(gen) {
  if (gen !== generation) return;
  try {
    if (!document.hidden) {
      await refreshClock();
      if (current?.refresh) await current.refresh();
      updated.textContent = `Updated ${new Date().toLocaleTimeString('en-GB')}`;
      showBanner(null);
    }
  } catch (error) {
    handleError(error);
  }
  if (gen === generation) pollTimer = setTimeout(() => poll(gen), POLL_MS);
}

function handleError(error) {
  if (error instanceof ApiError && error.status === 401) {
    signOut('Your key is no longer accepted by the broker (unknown or revoked). Sign in again.');
    return;
  }
  if (error instanceof ApiError) {
    showBanner(`The broker refused a request: ${error.message}`);
  } else {
    showBanner('The broker is not answering; the dashboard keeps trying every 2 seconds.');
    console.warn(error);
  }
}

async function route(focus = true) {
  generation++;
  clearTimeout(pollTimer);
  current?.unmount?.();
  current = null;
  showBanner(null);
  if (!session) {
    nav.hidden = true;
    sessionBox.hidden = true;
    current = signin.mount(main, { onSignedIn: signedIn });
    return;
  }

  const { segments, query } = routeOf(location.hash);
  if (segments.length === 0) {
    location.replace(`#/${defaultPath()}`);
    return;
  }

  const [path, ...rest] = segments;
  const entry = ROUTES.find((r) => r.path === path);
  markCurrent(path);
  main.replaceChildren();
  if (!entry) {
    main.append(h('h1', { tabindex: -1 }, 'Page not found'), h('p', null, 'There is no such page. ', h('a', { href: `#/${defaultPath()}` }, 'Go to the start page')));
  } else if (!entry.roles.includes(session.kind)) {
    main.append(h('h1', { tabindex: -1 }, entry.label),
      h('p', null, `A key with role ${session.text} cannot see this page. `, h('a', { href: `#/${defaultPath()}` }, 'Go to the start page')));
  } else {
    const page = path === 'requests' && rest.length > 0 ? request : entry.page;
    const ctx = { session, params: rest, query, announce, navigate: (hash) => { location.hash = hash; }, reportError: handleError };
    current = page.mount(main, ctx);
  }

  // Move focus to the new page's heading on navigation (not on first load, so Tab starts at the skip link).
  if (focus) main.querySelector('h1')?.focus({ preventScroll: true });
  document.title = `${main.querySelector('h1')?.textContent ?? 'Dashboard'} · ComputeBroker`;
  const gen = generation;
  try {
    await refreshClock();
    if (current?.refresh) await current.refresh();
    tickCountdowns(main);
    renderClock();
    updated.textContent = `Updated ${new Date().toLocaleTimeString('en-GB')}`;
  } catch (error) {
    handleError(error);
  }
  if (gen === generation) pollTimer = setTimeout(() => poll(gen), POLL_MS);
}

async function signedIn(key, whoami) {
  storeKey(key);
  session = { ...parseRole(whoami.role), keyId: whoami.keyId, key };
  renderNav();
  announce(`Signed in as ${session.text}`);
  if (location.hash.replace(/^#\/?/, '') === '') location.hash = `#/${defaultPath()}`;
  else await route();
}

function signOut(message) {
  clearKey();
  session = null;
  generation++;
  clearTimeout(pollTimer);
  current?.unmount?.();
  current = null;
  nav.hidden = true;
  sessionBox.hidden = true;
  clockBox.textContent = '';
  location.hash = '';
  current = signin.mount(main, { onSignedIn: signedIn, message });
}

document.getElementById('sign-out').addEventListener('click', () => signOut('You signed out.'));
window.addEventListener('hashchange', () => { route(); });
setInterval(() => { tickCountdowns(document); renderClock(); }, 1000);

async function start() {
  const key = storedKey();
  if (key) {
    try {
      const whoami = await api('/v1/whoami', { key });
      session = { ...parseRole(whoami.role), keyId: whoami.keyId, key };
      renderNav();
    } catch (error) {
      clearKey();
      if (!(error instanceof ApiError)) console.warn(error);
    }
  }
  await route(false);
}

start();
