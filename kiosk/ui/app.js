// The operator kiosk: sign-in, the title bar (language, lock-down, sign-out),
// the live event stream and the page router (#/lanes, #/history,
// #/inspection/ID, #/health, #/arrivals).

import { t, setLanguage, language } from './i18n.js';
import { h, api, session, APIError, reasonDialog } from './util.js';
import { lanesPage, laneEvent, setStale, lockedDown } from './lanes.js';
import { renderEvacuation, evacuationDialog } from './evacuation.js';
import { historyPage, inspectionPage } from './history.js';
import { healthPage } from './health.js';
import { arrivalsPage } from './arrivals.js';

const main = document.getElementById('main');
let events = null; // the EventSource while signed in
let leave = null;  // the current page's clean-up

/** Shows a page: clears main and remembers the page's clean-up. */
function show(node, cleanup) {
  if (leave) leave();
  leave = cleanup || null;
  main.replaceChildren(node);
}

function route() {
  if (!session.current) {
    show(loginPage());
    return;
  }
  const hash = location.hash || '#/lanes';
  const [, page, arg] = hash.split('/');
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('current', a.getAttribute('href') === '#/' + page);
  }
  switch (page) {
    case 'history': show(...historyPage(new URLSearchParams(arg || ''))); break;
    case 'inspection': show(...inspectionPage(decodeURIComponent(arg || ''))); break;
    case 'health': show(...healthPage()); break;
    case 'arrivals': show(...arrivalsPage(new URLSearchParams(arg || ''))); break;
    default: show(...lanesPage());
  }
}

function renderBar() {
  document.title = t('title') + (session.current ? ' · ' + session.current.gate : '');
  document.querySelector('#brand').textContent = t('title');
  document.querySelector('#gate').textContent = session.current ? session.current.gate : '';
  document.querySelector('#lang').textContent = t('lang');
  const nav = document.querySelector('#nav');
  nav.hidden = !session.current;
  for (const a of nav.querySelectorAll('a')) a.textContent = t(a.dataset.i18n);
  const who = document.querySelector('#who');
  const out = document.querySelector('#signout');
  const lock = document.querySelector('#lockdown');
  if (!session.current) {
    who.textContent = '';
    out.hidden = true;
    lock.hidden = true;
    renderEvacuation();
    return;
  }
  who.textContent = session.current.operator + ' · ' + t('role_' + session.current.role);
  out.hidden = false;
  out.textContent = t('signout');
  renderLockdown();
  renderEvacuation();
}

/** The lock-down banner and switch follow the lanes. */
export function renderLockdown() {
  const on = lockedDown();
  const banner = document.querySelector('#lockdown-banner');
  banner.hidden = !on;
  banner.textContent = t('lockdown.banner') + (on && session.current && session.current.role !== 'supervisor' ? ' ' + t('lockdown.supervisor') : '');
  const lock = document.querySelector('#lockdown');
  if (!session.current) return;
  const canLift = session.current.role === 'supervisor';
  lock.hidden = on && !canLift;
  lock.textContent = on ? t('lockdown.off') : t('lockdown.on');
  lock.classList.toggle('danger', !on);
}

function lockdownDialog() {
  const on = !lockedDown();
  reasonDialog({
    id: 'lockdown',
    title: [on ? t('lockdown.confirm.on') : t('lockdown.confirm.off')],
    confirmClass: on ? 'danger' : '',
    send: (reason) => api('/lockdown', { on, reason }),
  });
}

function loginPage() {
  const name = h('input', { id: 'login-name', name: 'name', autocomplete: 'username', required: true });
  const pw = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const err = h('p', { class: 'error', role: 'alert', id: 'login-error' });
  const form = h('form', { class: 'login', id: 'login' },
    h('h1', {}, t('signin.title')),
    h('label', {}, t('name'), name),
    h('label', {}, t('password'), pw),
    err,
    h('button', { type: 'submit', id: 'login-submit' }, t('signin')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    try {
      session.current = await api('/login', { name: name.value, password: pw.value });
      pw.value = '';
      signedIn();
    } catch (e) {
      err.textContent = e.status === 429 ? t('signin.limited') : e.status === 401 ? t('signin.failed') : t('error') + e.message;
    }
  });
  setTimeout(() => name.focus(), 0);
  return form;
}

function connect() {
  if (events) events.close();
  const src = new EventSource('/api/v1/events');
  events = src;
  const conn = document.querySelector('#conn');
  conn.title = '';
  src.addEventListener('open', () => { conn.textContent = t('live'); conn.className = 'conn live'; setStale(false); });
  src.addEventListener('hello', () => { conn.textContent = t('live'); conn.className = 'conn live'; setStale(false); });
  src.addEventListener('lane', (ev) => {
    laneEvent(JSON.parse(ev.data));
    renderLockdown();
    renderEvacuation();
  });
  src.addEventListener('signed_out', () => signedOut());
  // The account has more windows open than the kiosk keeps live: this one,
  // the oldest, stops (reconnecting by itself would only stop another)
  // and offers to resume here.
  src.addEventListener('superseded', () => {
    if (events !== src) return;
    src.close();
    events = null;
    conn.className = 'conn offline';
    conn.title = t('superseded.why');
    conn.replaceChildren(t('superseded'), ' ',
      h('button', { type: 'button', id: 'reconnect', onclick: () => connect() }, t('reconnect')));
    setStale(true);
  });
  src.addEventListener('error', async () => {
    if (events !== src) return;
    conn.textContent = t('offline');
    conn.className = 'conn offline';
    setStale(true);
    if (src.readyState === EventSource.CLOSED) {
      // The server refused the stream: find out whether we are still
      // signed in, then try again or show the sign-in.
      try {
        const s = await api('/session');
        if (!s.signed_in) { signedOut(); return; }
      } catch (e) { /* the kiosk is unreachable: try again */ }
      setTimeout(() => { if (events === src && session.current) connect(); }, 2000);
    }
  });
}

function signedIn() {
  renderBar();
  connect();
  route();
}

function signedOut() {
  if (events) { events.close(); events = null; }
  session.current = null;
  const conn = document.querySelector('#conn');
  conn.textContent = '';
  conn.className = 'conn';
  renderBar();
  route();
}

document.querySelector('#lang').addEventListener('click', () => {
  setLanguage(language() === 'zh' ? 'en' : 'zh');
  renderBar();
  route();
  const conn = document.querySelector('#conn');
  if (events) conn.textContent = conn.classList.contains('offline') ? t('offline') : t('live');
});
document.querySelector('#signout').addEventListener('click', async () => {
  try { await api('/logout', {}); } catch (e) { /* signed out anyway below */ }
  signedOut();
});
document.querySelector('#lockdown').addEventListener('click', lockdownDialog);
document.querySelector('#evacuate').addEventListener('click', evacuationDialog);
window.addEventListener('hashchange', route);
window.addEventListener('hazgate:lanes', renderLockdown);
window.addEventListener('hazgate:lanes', renderEvacuation);

async function start() {
  setLanguage(language());
  try {
    const s = await api('/session');
    session.current = s.signed_in ? s : null;
  } catch (e) {
    session.current = null;
    if (!(e instanceof APIError)) throw e;
  }
  if (session.current) signedIn(); else { renderBar(); route(); }
}

start();
