// The history: search the inspections, export a day as CSV, and an
// inspection's page with every check, the evidence, the operator's
// decisions and the audit trail.

import { t, msg, list, paren, language } from './i18n.js';
import { h, api, fmtDateTime } from './util.js';
import { facePanel } from './faces.js';
import { plateMarks, plateLine, platePanel } from './plates.js';

const fields = [
  ['plate', 'plate'], ['id_number', 'idNumber'], ['waybill', 'waybill'],
];

/** The history page for the search in params: [node, cleanup]. */
export function historyPage(params) {
  const inputs = {};
  for (const [name, label] of fields) {
    inputs[name] = h('input', { id: 'search-' + name, name, value: params.get(name) || '', maxlength: 64, 'aria-label': t(label) });
  }
  const verdict = h('select', { id: 'search-verdict', name: 'verdict', 'aria-label': t('verdict') },
    ['', 'pass', 'reject', 'review'].map((v) => h('option', { value: v, selected: params.get('verdict') === v },
      v ? t('verdict.' + v) : t('any'))));
  const outcome = h('select', { id: 'search-outcome', name: 'outcome', 'aria-label': t('outcome') },
    ['', 'passed', 'pending', 'released', 'refused'].map((v) => h('option', { value: v, selected: params.get('outcome') === v },
      v ? t('outcome.' + v) : t('any'))));
  const date = h('input', { id: 'search-date', name: 'date', type: 'date', value: params.get('date') || '', 'aria-label': t('date') });
  const status = h('p', { class: 'status', role: 'status' });
  const results = h('div', { id: 'results' });
  const form = h('form', { class: 'search', id: 'search' },
    fields.map(([name, label]) => h('label', {}, t(label), inputs[name])),
    h('label', {}, t('verdict'), verdict),
    h('label', {}, t('outcome'), outcome),
    h('label', {}, t('date'), date),
    h('button', { type: 'submit', id: 'search-submit' }, t('search')),
    h('button', { type: 'button', id: 'export', onclick: () => {
      if (!date.value) { status.textContent = t('exportNeedsDate'); return; }
      window.location.assign('/api/v1/export?date=' + encodeURIComponent(date.value) + '&lang=' + language());
    } }, t('export')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const name of Object.keys(inputs)) if (inputs[name].value.trim()) q.set(name, inputs[name].value.trim());
    if (verdict.value) q.set('verdict', verdict.value);
    if (outcome.value) q.set('outcome', outcome.value);
    if (date.value) q.set('date', date.value);
    const hash = '#/history/' + q.toString();
    if (location.hash === hash) search(q, results, status); else location.hash = hash;
  });
  search(params, results, status);
  return [h('div', { class: 'page history' }, form, status, results)];
}

async function search(params, results, status) {
  status.textContent = '';
  try {
    const a = await api('/inspections?' + params.toString());
    results.replaceChildren(table(a.inspections));
  } catch (e) {
    status.textContent = t('error') + e.message;
  }
}

function table(rows) {
  if (!rows.length) return h('p', { class: 'empty' }, t('noResults'));
  return h('table', { class: 'results' },
    h('thead', {}, h('tr', {}, [t('time'), t('lane'), t('plate'), t('trailer'), t('driver'), t('waybill'), t('verdict'), t('outcome'), t('failed')].map((c) => h('th', {}, c)))),
    h('tbody', {}, rows.map((i) => h('tr', { class: 'row verdict-' + i.verdict, dataset: { id: i.id } },
      h('td', { class: 'time' }, fmtDateTime(i.decided_at)),
      h('td', { class: 'time' }, i.lane),
      h('td', {}, h('a', { href: '#/inspection/' + encodeURIComponent(i.id) }, i.plate || '—')),
      h('td', {}, i.trailer),
      h('td', {}, i.driver ? i.driver.name + ' ' + i.driver.id_masked : ''),
      h('td', {}, i.waybill),
      h('td', {}, h('span', { class: 'verdict-tag verdict-' + i.verdict }, t('verdict.' + i.verdict))),
      h('td', { class: 'outcome' }, outcomeTag(i), i.decision ? h('div', { class: 'outcome-by' }, i.decision.operator) : null),
      h('td', {}, list(i.failed.map((c) => t('check.' + c))))))),
    h('caption', {}, rows.length + ' ' + t('results')));
}

/** How the case ended: passed, pending, released or refused. */
function outcomeTag(i) {
  return h('span', { class: 'outcome-tag outcome-' + i.outcome }, msg(i.outcome_text));
}

/** An inspection's page: [node, cleanup]. */
export function inspectionPage(id) {
  const page = h('div', { class: 'page inspection', id: 'inspection' });
  api('/inspections/' + encodeURIComponent(id)).then((d) => page.replaceChildren(...detail(d)))
    .catch((e) => page.replaceChildren(h('p', { class: 'error' }, t('error') + e.message)));
  return [page];
}

function row(label, ...value) {
  return h('tr', {}, h('th', {}, label), h('td', {}, ...value));
}

function personRow(label, p) {
  if (!p) return row(label, '—');
  const face = p.face === null || p.face === undefined ? t('faceNone') : p.face.toFixed(2);
  const valid = [p.card_valid_from, p.card_valid_until].filter(Boolean).join(' — ');
  return row(label, [p.name + ' ' + p.id_masked, t('face') + t('colon') + face, valid ? t('cardValid') + t('colon') + valid : ''].filter(Boolean).join(' · '));
}

/** Who did it, in words: the system, or an operator by name. */
function actor(a) {
  if (!a || a === 'system') return t('actor.system');
  const [kind, name] = a.split(/:(.*)/s);
  if (name && t('actor.' + kind) !== 'actor.' + kind) return t('actor.' + kind) + ' ' + name;
  return a;
}

/** An audit entry's detail in words: each known field with its label and its value as the screen says it. */
function auditDetail(detail) {
  if (!detail || typeof detail !== 'object') return '';
  const value = (k, v) => {
    switch (k) {
      case 'verdict': return t('verdict.' + v);
      case 'direction': return t('direction.' + v);
      case 'action': return t('action.' + v);
      case 'failed': return Array.isArray(v) ? list(v.map((c) => t('check.' + c))) : String(v);
      case 'stay_s': return (Number(v) / 60).toFixed(0) + ' ' + t('minutes');
      case 'on': return v ? t('yes') : t('no');
      case 'image': return t('image.' + v);
    }
    if (Array.isArray(v)) return list(v.map(String));
    if (v && typeof v === 'object') return Object.entries(v).map(([a, b]) => a + ' ' + b).join(' · ');
    return String(v);
  };
  return Object.entries(detail).filter(([, v]) => v !== '' && v !== null && !(Array.isArray(v) && !v.length))
    .map(([k, v]) => (t('field.' + k) === 'field.' + k ? k : t('field.' + k)) + t('colon') + value(k, v)).join(' · ');
}

/** How the inspection's waybill was found, in words ('—' with none, or recorded before it was). */
function waybillSource(d) {
  if (!d.waybill || !d.waybill_source) return '—';
  if (d.waybill_by_plate) return t('waybillSource.overrode').replace('{n}', d.waybill_by_plate);
  return t('waybillSource.' + d.waybill_source);
}

function detail(d) {
  const steps = Object.entries(d.timings_s).sort((a, b) => a[1] - b[1]);
  const nodes = [
    h('p', {}, h('a', { href: '#/history/', class: 'back' }, '← ' + t('back'))),
    h('h1', {}, t('inspection') + ' ', h('span', { class: 'plate' }, d.plate || '—'), ' ', ...plateMarks(d), ' ',
      h('span', { class: 'verdict-tag verdict-' + d.verdict }, t('verdict.' + d.verdict)), ' ', outcomeTag(d)),
    h('p', { id: 'outcome', class: 'outcome-line outcome-' + d.outcome }, d.decision ? msg(d.decision.text) : msg(d.outcome_text)),
    d.verdict_reasons.length ? h('ul', { class: 'verdict-reasons' }, d.verdict_reasons.map((r) => h('li', {}, msg(r)))) : null,
    h('h2', {}, t('evidence')),
    h('table', { class: 'facts' }, h('tbody', {},
      row('ID', h('code', {}, d.id)),
      row(t('lane'), d.lane + paren(t('direction.' + d.direction))),
      row(t('plate'), d.plate || '—'),
      row(t('trailer'), d.trailer || '—'),
      row(t('plateSeen'), h('span', { id: 'plate-seen' }, plateLine(d))),
      personRow(t('driver'), d.driver),
      personRow(t('escort'), d.escort),
      row(t('waybill'), d.waybill || '—'),
      row(t('waybillSource'), h('span', { id: 'waybill-source' }, waybillSource(d))),
      row(t('arrived'), fmtDateTime(d.arrived_at)),
      row(t('decided'), fmtDateTime(d.decided_at) + (d.deadline_exceeded ? ' · ' + t('deadlineExceeded') : '')),
      row(t('decidedBy'), actor(d.decided_by)),
      row(t('timings'), h('span', { id: 'timings' }, steps.map(([k, v]) => t('step.' + k) + ' ' + v.toFixed(1) + ' ' + t('seconds')).join(' · '))))),
    h('h2', {}, t('platePictures')),
    platePanel(d.id),
    h('h2', {}, t('faceCompare')),
    facePanel(d.id, [['driver', d.driver, t('driver')], ['escort', d.escort, t('escort')]], false),
    h('h2', {}, t('checks')),
    h('ul', { class: 'checks wide' }, d.checks.map((c) => h('li', { class: 'check state-' + c.state, dataset: { check: c.id } },
      h('span', { class: 'check-state' }, t('state.' + c.state)),
      h('span', { class: 'check-name' }, t('check.' + c.id)),
      c.reasons.map((r) => h('div', { class: 'reason' }, msg(r)))))),
    h('h2', {}, t('decisions')),
    d.decisions.length
      ? h('ul', { class: 'decisions', id: 'decisions' }, d.decisions.map((x) => h('li', { class: 'decision-' + x.action },
        fmtDateTime(x.at) + '  ' + msg(x.text))))
      : h('p', { id: 'decisions' }, t('noDecisions')),
    h('h2', {}, t('audit')),
    h('table', { class: 'audit', id: 'audit' },
      h('thead', {}, h('tr', {}, ['#', t('time'), t('actor'), t('action'), t('detail')].map((c) => h('th', {}, c)))),
      h('tbody', {}, d.audit.map((a) => h('tr', { dataset: { action: a.action } },
        h('td', {}, String(a.seq)),
        h('td', {}, fmtDateTime(a.at)),
        h('td', {}, actor(a.actor)),
        h('td', {}, t('audit.' + a.action) === 'audit.' + a.action ? a.action : t('audit.' + a.action)),
        h('td', { class: 'detail' }, auditDetail(a.detail), h('div', { class: 'hash' }, t('hash') + ' ' + a.hash.slice(0, 16) + '…')))))),
  ];
  return nodes.filter(Boolean);
}
