// The day's expected arrivals (#/arrivals): the registry's appointments
// with their pre-clearance, the documentary checks the gate judged before
// the vehicle comes (docs/kiosk.md "Expected arrivals"). A pre-clearance is
// never a pass: every check is judged again at the lane.

import { t, msg, list } from './i18n.js';
import { h, api, fmtTime } from './util.js';

/** The arrivals page for the day in params (default today): [node, cleanup]. */
export function arrivalsPage(params) {
  // Left out: the server's day, today on the gate's clock.
  const date = h('input', { id: 'arrivals-date', name: 'date', type: 'date', value: params.get('date') || '', 'aria-label': t('date') });
  const status = h('p', { class: 'status', role: 'status' });
  const results = h('div', { id: 'arrivals' });
  const form = h('form', { class: 'search', id: 'arrivals-form' },
    h('label', {}, t('date'), date),
    h('button', { type: 'submit', id: 'arrivals-submit' }, t('search')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const hash = '#/arrivals/' + new URLSearchParams({ date: date.value }).toString();
    if (location.hash === hash) load(date.value, results, status); else location.hash = hash;
  });
  load(date.value, results, status, date);
  // The list follows the pre-clearances as they are published.
  const timer = setInterval(() => load(date.value, results, status), 30000);
  return [h('div', { class: 'page arrivals' },
    h('h1', {}, t('arrivals.title')),
    h('p', { class: 'arrivals-note' }, t('arrivals.note')),
    form, status, results), () => clearInterval(timer)];
}

async function load(day, results, status, input) {
  try {
    const a = await api('/arrivals' + (day ? '?date=' + encodeURIComponent(day) : ''));
    if (input && !input.value) input.value = a.date;
    status.textContent = '';
    results.replaceChildren(table(a.arrivals));
  } catch (e) {
    status.textContent = t('error') + e.message;
  }
}

function table(rows) {
  if (!rows.length) return h('p', { class: 'empty' }, t('arrivals.none'));
  return h('table', { class: 'results arrivals-list' },
    h('thead', {}, h('tr', {}, [t('arrivals.window'), t('plate'), t('arrivals.company'), t('arrivals.carrier'), t('arrivals.cargo'), t('waybill'), t('arrivals.preclearance')].map((c) => h('th', {}, c)))),
    h('tbody', {}, rows.map(row)),
    h('caption', {}, rows.length + ' ' + t('arrivals.count')));
}

function row(a) {
  const pc = a.preclearance;
  const verdict = pc ? pc.verdict : 'none';
  return h('tr', { class: 'row arrival' + (pc ? ' verdict-' + verdict : ''), dataset: { appointment: a.id, plate: a.plate, preclearance: verdict } },
    h('td', { class: 'time' }, fmtTime(a.from).slice(0, 5) + '–' + fmtTime(a.until).slice(0, 5),
      a.status !== 'approved' ? h('div', { class: 'appt-status' }, t('appt.' + a.status)) : null),
    h('td', { class: 'plate-cell' }, h('strong', { class: 'plate' }, a.plate), a.trailer ? h('div', {}, a.trailer) : null),
    h('td', {}, a.company),
    h('td', {}, a.carrier || '—'),
    h('td', {}, a.cargo.length ? list(a.cargo.map((g) => g.name + ' ' + g.un)) : '—'),
    h('td', { class: 'waybill' }, a.waybill || '—'),
    h('td', { class: 'preclearance' }, pc ? preclearance(pc) : h('span', { class: 'verdict-tag verdict-none' }, t(a.status === 'approved' ? 'arrivals.notYet' : 'arrivals.notJudged'))));
}

function preclearance(pc) {
  const judged = h('div', { class: 'judged' }, t('arrivals.judged') + ' ' + fmtTime(pc.judged_at).slice(0, 5),
    pc.clock_synced ? null : ' · ' + t('arrivals.clockUnsynced'));
  const reasons = [];
  for (const c of pc.checks) {
    if (c.result === 'pass') continue;
    reasons.push(h('li', { class: 'check-reason state-' + (c.result === 'fail' ? 'fail' : 'unknown'), dataset: { check: c.id, result: c.result } },
      h('span', { class: 'check-name' }, t('check.' + c.id) + t('colon')),
      c.reasons.map((r) => h('span', { class: 'reason', dataset: { code: r.code }, title: r.code }, msg(r))).reduce((acc, x, i) => (i ? [...acc, t('listSep'), x] : [x]), [])));
  }
  return [h('span', { class: 'verdict-tag verdict-' + pc.verdict }, t('pre.' + pc.verdict)),
    reasons.length ? h('ul', { class: 'pre-reasons' }, reasons) : null, judged];
}
