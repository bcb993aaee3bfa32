// The live lanes view: one panel per lane, updated from the event stream.
// A panel's information is redrawn on every change; its controls (the
// decision's reason, a typed plate) are kept while the operator types and
// rebuilt only when what may be decided changes.

import { t, msg, list, paren } from './i18n.js';
import { h, api, session, fmtCountdown, fmtAge, fmtDateTime } from './util.js';
import { facePanel } from './faces.js';
import { plateMarks } from './plates.js';

const views = new Map();   // lane -> latest view from the server
const panels = new Map();  // lane -> {root, info, faces, actions, key, facesKey}
let grid = null;           // the grid while the lanes page is shown
let stale = false;
let offset = 0;            // server clock minus this browser's clock, in ms

/** Takes a lane view from the stream. */
export function laneEvent(v) {
  if (v.server_time) offset = Date.parse(v.server_time) - Date.now();
  views.set(v.lane, v);
  if (grid) draw(v);
}

/** Marks the lanes as possibly out of date (the stream is down). */
export function setStale(s) {
  stale = s;
  if (grid) grid.classList.toggle('stale', s);
  const w = document.querySelector('#stale-warning');
  if (w) w.hidden = !s;
}

/** Whether any lane is locked down. */
export function lockedDown() {
  for (const v of views.values()) if (v.lockdown) return true;
  return false;
}

/** The gate's evacuation: null, or who may end it ("office" or "kiosk"). */
export function evacuation() {
  for (const v of views.values()) if (v.evacuation) return v.evacuation_by || 'office';
  return null;
}

/** The lanes page: [node, cleanup]. */
export function lanesPage() {
  panels.clear();
  grid = null;
  grid = h('div', { class: 'lanes' + (stale ? ' stale' : ''), id: 'lanes' });
  const warning = h('div', { id: 'stale-warning', class: 'stale-warning', role: 'alert', hidden: !stale }, t('offline'));
  for (const v of views.values()) draw(v);
  api('/lanes').then((a) => {
    for (const v of a.lanes) laneEvent(v);
    window.dispatchEvent(new Event('hazgate:lanes'));
  }).catch(() => { /* the stream fills the lanes */ });
  const timer = setInterval(tick, 250);
  const mine = grid;
  const park = h('div', { class: 'park', id: 'park' });
  const refreshPark = () => parkBar(park);
  refreshPark();
  const parkTimer = setInterval(refreshPark, 10000);
  const page = h('div', {}, warning, park, grid);
  // The clean-up runs after the next page is built: it forgets only its
  // own grid.
  return [page, () => {
    clearInterval(timer);
    clearInterval(parkTimer);
    if (grid === mine) { grid = null; panels.clear(); }
  }];
}

/** Fills the park bar: how many vehicles are inside the park, and which
 *  (docs/uplink.md, "Who is inside the park"). */
function parkBar(el) {
  api('/park').then((p) => {
    const rows = p.vehicles.map((v) => h('tr', {},
      h('td', { class: 'plate' }, v.plate),
      h('td', {}, fmtDateTime(v.since)),
      h('td', {}, fmtAge((Date.now() + offset - Date.parse(v.since)) / 1000)),
      h('td', {}, v.gate + ' ' + v.lane)));
    const more = p.inside > p.vehicles.length ? h('p', {}, t('parkMore') + (p.inside - p.vehicles.length)) : null;
    const open = !!el.querySelector('details[open]');
    el.replaceChildren(h('details', { open },
      h('summary', {}, h('span', { class: 'label' }, t('parkInside')), h('strong', { class: 'park-count' }, String(p.inside)), t('vehicles') ? ' ' + t('vehicles') : null),
      p.inside ? h('table', { class: 'park-list' },
        h('thead', {}, h('tr', {}, h('th', {}, t('plate')), h('th', {}, t('since')), h('th', {}, t('stay')), h('th', {}, t('gateLane')))),
        h('tbody', {}, ...rows)) : h('p', {}, t('parkEmpty')),
      more));
  }).catch(() => { el.replaceChildren(); });
}

/** Updates the countdowns. */
function tick() {
  if (!grid) return;
  const now = Date.now() + offset;
  for (const el of grid.querySelectorAll('[data-deadline]')) {
    const left = Date.parse(el.dataset.deadline) - now;
    el.querySelector('.count').textContent = left >= 0 ? fmtCountdown(left) : t('overdue') + ' ' + fmtCountdown(-left);
    el.classList.toggle('urgent', left < 30000);
  }
}

function draw(v) {
  let p = panels.get(v.lane);
  if (!p) {
    p = { root: h('section', { class: 'lane', id: 'lane-' + v.lane, 'aria-label': v.lane }), info: h('div', { class: 'info' }),
      faces: h('div', { class: 'lane-faces' }), actions: h('div', { class: 'actions' }), key: null, facesKey: '' };
    p.root.append(p.info, p.faces, p.actions);
    panels.set(v.lane, p);
    const names = [...views.keys()];
    const after = names.slice(names.indexOf(v.lane) + 1).map((n) => panels.get(n)).find(Boolean);
    grid.insertBefore(p.root, after ? after.root : null);
  }
  p.root.className = 'lane' + (v.lockdown ? ' locked' : '') + (v.evacuation ? ' evacuating' : '') + (v.verdict && v.active ? ' lane-' + v.verdict : '');
  p.info.replaceChildren(...info(v));
  // A held vehicle's faces, beside its card photos, for the operator who
  // decides: built once per inspection (each view of an image is audited).
  const facesKey = v.decidable === 'review' || v.decidable === 'reject' ? v.inspection_id : '';
  if (facesKey !== p.facesKey) {
    p.facesKey = facesKey;
    p.faces.replaceChildren(...(facesKey ? [h('div', { class: 'label' }, t('faceCompare')),
      facePanel(facesKey, [['driver', v.driver, t('driver')], ['escort', v.escort, t('escort')]], true)] : []));
  }
  const role = session.current ? session.current.role : '';
  const key = [v.decidable, v.inspection_id, v.plate_entry, v.releasing, v.lockdown, role, v.decision ? v.decision.action : ''].join('|');
  if (key !== p.key) {
    p.key = key;
    p.actions.replaceChildren(...actions(v, role));
  }
  tick();
}

function person(label, p) {
  if (!p) {
    return h('div', { class: 'person missing' },
      h('div', {}, h('span', { class: 'label' }, label), t('notPresented')));
  }
  let face = t('faceWaiting');
  if (p.face_scored) face = p.face === null || p.face === undefined ? t('faceNone') : p.face.toFixed(2);
  return h('div', { class: 'person' },
    h('div', {}, h('span', { class: 'label' }, label), h('span', { class: 'pname' }, p.name)),
    h('div', { class: 'idno' }, p.id_masked),
    h('div', { class: 'face' }, t('face') + t('colon') + face));
}

function info(v) {
  const out = [h('div', { class: 'lane-head' },
    h('span', { class: 'lane-name' }, (v.exit ? t('exit') : t('entry')) + ' ' + v.lane),
    phase(v))];
  if (v.evacuation) out.push(h('div', { class: 'lane-evac' }, '⚠ ' + t(v.exit ? 'evacuation' : 'evac.entry')));
  if (v.lockdown) out.push(h('div', { class: 'lane-lock' }, '⊘ ' + t('lockdown')));
  if (v.faults.length) out.push(h('div', { class: 'lane-fault' }, '✖ ' + t('deviceFault') + list(v.faults)));
  const has = v.active || v.inspection_id || v.plate || v.entry_id;
  if (!has) {
    out.push(h('p', { class: 'idle' }, t('noVehicle')));
  } else {
    if (!v.active) out.push(h('p', { class: 'last' }, t('lastVehicle')));
    out.push(h('div', { class: 'plates' },
      h('span', { class: 'plate' }, v.plate || '— — —'),
      v.trailer ? h('span', { class: 'trailer' }, t('trailer') + ' ' + v.trailer) : null,
      ...plateMarks(v),
      v.plate_unconfirmed ? h('span', { class: 'unconfirmed' }, '⚠ ' + t('unconfirmed')) : null));
    if (!v.exit) {
      out.push(h('div', { class: 'people' }, person(t('driver'), v.driver), person(t('escort'), v.escort)));
      out.push(h('div', { class: 'waybill' }, h('span', { class: 'label' }, t('waybill')), v.waybill || t('notScanned'), waybillFound(v)));
      out.push(verdict(v));
      if (v.decision) out.push(decision(v.decision));
      if (v.missing.length) {
        out.push(h('div', { class: 'missing-list' }, t('waitingFor') + list(v.missing.map((m) => t('missing.' + m)))));
      }
      out.push(h('ul', { class: 'checks' }, v.checks.map(check)));
    } else {
      if (v.entry_id) out.push(h('div', { class: 'stay' }, t('stay') + ' ' + fmtAge(v.stay_s)));
      if (v.decision) out.push(decision(v.decision));
    }
  }
  const status = [barrierLine(v)];
  if (v.deadline && (v.phase === 'collecting' || v.phase === 'open')) {
    status.push(h('span', { class: 'countdown', dataset: { deadline: v.deadline } }, t('deadline') + ' ', h('span', { class: 'count' })));
  }
  out.push(h('div', { class: 'status-row' }, status));
  if (v.note) out.push(h('div', { class: 'note' }, msg(v.note)));
  return out;
}

/** How the lane's waybill was found, when not by a plain scan: from the plate, or a scan that overrode the plate's. */
function waybillFound(v) {
  if (!v.waybill) return null;
  if (v.waybill_source === 'by_plate') return h('span', { class: 'waybill-src by-plate' }, '✔ ' + t('waybill.by_plate'));
  if (v.waybill_by_plate) return h('span', { class: 'waybill-src overrode' }, '⚠ ' + t('waybill.overrode').replace('{n}', v.waybill_by_plate));
  return null;
}

function verdict(v) {
  if (!v.verdict) {
    return h('div', { class: 'verdict verdict-none' }, t('verdict.none'));
  }
  return h('div', { class: 'verdict verdict-' + v.verdict },
    h('span', {}, t('verdict.' + v.verdict)),
    v.verdict_reasons.map((r) => h('div', { class: 'reason' }, msg(r))));
}

/** Whether the lane's barrier is in fault: a fault or no known state reported, or a failed command. */
function barrierFault(v) {
  const rep = v.barrier.reported;
  return rep === 'fault' || rep === 'unknown' || v.barrier.commanded === 'unknown';
}

/**
 * The barrier line: what the barrier reports, and the last command when it
 * says something the report does not (no feedback yet, or a barrier still
 * to follow its command). The phase badge names the lane's step, never the
 * barrier's position, so the two cannot disagree.
 */
function barrierLine(v) {
  const rep = v.barrier.reported;
  const cmd = v.barrier.commanded;
  const agrees = (rep === 'open' && cmd === 'up') || (rep === 'closed' && cmd === 'down');
  let words;
  if (!rep) words = t('cmd.' + cmd) + paren(t('barrier.'));
  else if (agrees || !cmd) words = t('barrier.' + rep);
  else words = t('barrier.' + rep) + paren(t('cmd.' + cmd));
  return h('span', { class: 'barrier' + (barrierFault(v) ? ' fault' : '') + (rep === 'open' || rep === 'opening' ? ' up' : '') },
    t('barrier') + ' ' + words);
}

/** The lane's phase; a refused vehicle still on the loop is no longer waiting for anyone. */
function phase(v) {
  const fault = v.faults.length || barrierFault(v) ? h('span', { class: 'fault-badge' }, t('faultBadge')) : null;
  let badge = h('span', { class: 'phase phase-' + v.phase }, t('phase.' + v.phase));
  if (v.phase === 'held' && v.decision && v.decision.action === 'refuse') {
    badge = h('span', { class: 'phase phase-refused' }, t('phase.refused'));
  }
  return h('span', { class: 'badges' }, fault, badge);
}

/** The operator's decision: released or refused, by whom, why. */
function decision(d) {
  return h('div', { class: 'lane-decision decision-' + d.action }, msg(d.text));
}

function check(c) {
  return h('li', { class: 'check state-' + c.state, dataset: { check: c.id } },
    h('span', { class: 'check-state' }, t('state.' + c.state)),
    h('span', { class: 'check-name' }, t('check.' + c.id)),
    c.reasons.map((r) => h('div', { class: 'reason' }, msg(r))));
}

function actions(v, role) {
  const out = [];
  if (v.plate_entry) out.push(plateForm(v));
  if (v.releasing) out.push(h('p', { class: 'status' }, t('releasing')));
  if (v.decidable === 'reject' && role !== 'supervisor') {
    out.push(h('p', { class: 'status' }, t('supervisorOnly')));
  } else if (v.decidable) {
    out.push(decisionForm(v));
  }
  return out;
}

function decisionForm(v) {
  // A released vehicle the lane held again may only be released again.
  const again = v.decision && v.decision.action === 'release';
  const reason = h('textarea', { class: 'decision-reason', rows: 2, maxlength: 500, placeholder: t('reason'), 'aria-label': t('reason') });
  const status = h('p', { class: 'status', role: 'status' });
  const send = async (action) => {
    if (!reason.value.trim()) { status.textContent = t('reasonRequired'); reason.focus(); return; }
    status.textContent = '';
    try {
      await api('/lanes/' + encodeURIComponent(v.lane) + '/' + action, { inspection_id: v.inspection_id, reason: reason.value });
      status.textContent = t('sent');
    } catch (e) {
      status.textContent = t('error') + (e.text ? msg(e.text) : e.message);
    }
  };
  return h('div', { class: 'decision' },
    reason,
    h('div', { class: 'buttons' },
      h('button', { type: 'button', class: 'release', disabled: v.lockdown, onclick: () => send('release') }, t('release')),
      again ? null : h('button', { type: 'button', class: 'refuse danger', onclick: () => send('refuse') }, t('refuse'))),
    status);
}

function plateForm(v) {
  const plate = h('input', { class: 'plate-input', maxlength: 16, placeholder: t('plate'), 'aria-label': t('plate'), value: v.plate || '' });
  const trailer = h('input', { class: 'trailer-input', maxlength: 16, placeholder: t('trailer'), 'aria-label': t('trailer'), value: v.trailer || '' });
  const status = h('p', { class: 'status', role: 'status' });
  const form = h('form', { class: 'plate-entry' },
    h('div', { class: 'label' }, t('plateEntry')), plate, trailer,
    h('button', { type: 'submit' }, t('plateSubmit')), status);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await api('/lanes/' + encodeURIComponent(v.lane) + '/plate', { plate: plate.value, trailer: trailer.value });
      status.textContent = t('sent');
    } catch (e) {
      status.textContent = t('error') + e.message;
    }
  });
  return form;
}
