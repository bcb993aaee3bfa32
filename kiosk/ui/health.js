// The health page: devices, the MQTT connection, the outbox, the registry,
// disk space and the lanes' barriers, refreshed every five seconds. A source
// that is not connected shows as "not reported", never as healthy. A
// supervisor also sees the sign-in lockouts and may unlock an account.

import { t, language, paren } from './i18n.js';
import { h, api, session, badge, fmtAge, fmtDateTime, fmtBytes, reasonDialog } from './util.js';

/** The health page: [node, cleanup]. */
export function healthPage() {
  const body = h('div', { id: 'health-body' });
  const supervisor = session.current && session.current.role === 'supervisor';
  const locks = supervisor ? h('section', { class: 'health-item', id: 'lockouts' }) : null;
  const logbox = supervisor ? h('section', { class: 'health-item', id: 'log-lines' }) : null;
  const verify = h('p', { class: 'status', id: 'audit-status', role: 'status' });
  const page = h('div', { class: 'page health', id: 'health' },
    h('h1', {}, t('health.title')), body, locks,
    h('button', { type: 'button', id: 'verify-audit', onclick: async () => {
      verify.textContent = '…';
      try {
        const r = await api('/audit/verify');
        verify.textContent = r.ok ? t('auditOK') : t('auditBad') + r.error;
        verify.className = 'status ' + (r.ok ? 'status-ok' : 'status-fault');
      } catch (e) { verify.textContent = t('error') + e.message; }
    } }, t('verifyAudit')),
    verify, logbox);
  const load = async () => {
    try {
      body.replaceChildren(...sections(await api('/health')));
    } catch (e) {
      body.replaceChildren(h('p', { class: 'error' }, t('error') + e.message));
    }
    if (!locks) return;
    try {
      locks.replaceChildren(...lockouts((await api('/lockouts')).lockouts, load));
    } catch (e) {
      locks.replaceChildren(h('h2', {}, t('lockouts')), h('p', { class: 'error' }, t('error') + e.message));
    }
    try {
      logbox.replaceChildren(...logLines(await api('/logs')));
    } catch (e) {
      logbox.replaceChildren(h('h2', {}, t('logLines')), h('p', { class: 'error' }, t('error') + e.message));
    }
  };
  load();
  const timer = setInterval(load, 5000);
  return [page, () => clearInterval(timer)];
}

function section(title, status, ...content) {
  return h('section', { class: 'health-item status-border-' + status },
    h('h2', {}, title, ' ', badge(status)), ...content);
}

function sections(r) {
  const now = Date.parse(r.server_time);
  const since = (at) => (at ? ago((now - Date.parse(at)) / 1000) : '');
  const out = [h('p', { class: 'overall' }, badge(r.status))];
  const d = r.devices;
  out.push(section(t('devices'), d.status, !d.reported ? h('p', {}, t('notReported')) :
    h('table', { class: 'health-devices' },
      head(['hcol.status', 'hcol.device', 'hcol.kind', 'hcol.lane', 'hcol.state', 'hcol.since']),
      h('tbody', {}, d.items.map((x) => h('tr', { dataset: { device: x.name } },
        h('td', {}, badge(x.ok ? 'ok' : 'fault')), h('td', {}, x.name), h('td', {}, kindName(x.kind)),
        h('td', {}, x.lane || t('hcol.gateWide')), h('td', {}, stateName(x.state) + (detail(x) ? ' — ' + detail(x) : '')),
        h('td', { class: 'since' }, since(x.since))))))));
  const b = r.broker;
  out.push(section(t('broker'), b.status, !b.reported ? h('p', {}, t('notReported')) :
    h('p', {}, (b.connected ? t('connected') : t('disconnected')) + ' · ' + b.url +
      (b.since ? ' · ' + since(b.since) : '') + (b.last_error ? ' · ' + b.last_error : ''))));
  const o = r.outbox;
  out.push(section(t('outbox'), o.status, !o.reported ? h('p', {}, t('notReported')) :
    h('p', {}, o.error ? o.error : o.depth + ' ' + t('depth') + (o.depth ? ' · ' + t('oldest') + ' ' + fmtAge(o.oldest_age_s) : ''))));
  const g = r.registry;
  out.push(section(t('registry'), g.status, !g.reported ? h('p', {}, t('notReported')) :
    h('p', {}, g.error ? g.error : !g.synced_at ? t('hreg.never') :
      t('version') + ' ' + g.version + ' · ' + t('synced') + ' ' + fmtDateTime(g.synced_at) + paren(ago(g.age_s)))));
  const k = r.disk;
  out.push(section(t('disk'), k.status, !k.reported ? h('p', {}, t('notReported')) :
    h('p', {}, k.error ? k.error : fmtBytes(k.free_bytes) + ' ' + t('free') + ' ' + t('of') + ' ' + fmtBytes(k.total_bytes) + ' · ' + k.path)));
  const c = r.clock;
  if (c && c.reported) {
    out.push(section(t('hclock.title'), c.status, h('p', { id: 'health-clock' },
      (c.synced ? t('hclock.synced') : t('hclock.' + c.reason)) + ' · ' + c.source +
      (c.checked_at ? ' · ' + t('hclock.checked') + ' ' + fmtDateTime(c.checked_at) : ''))));
  }
  out.push(section(t('lanes'), r.lanes.reduce((s, l) => worse(s, l.status), 'ok'),
    h('table', { class: 'health-lanes' },
      head(['hcol.status', 'hcol.lane', 'hcol.phase', 'hcol.barrier', 'hcol.lockdown', 'hcol.faults']),
      h('tbody', {}, r.lanes.map((l) => h('tr', {},
        h('td', {}, badge(l.status)), h('td', {}, l.lane), h('td', {}, t('phase.' + l.phase)),
        h('td', {}, t('barrier.' + l.barrier_reported) + paren(t('cmd.' + l.barrier_commanded))),
        h('td', {}, l.lockdown ? '⊘ ' + t('lockdown') : ''),
        h('td', {}, l.faults.length ? '✖ ' + l.faults.join('、') : '')))))));
  return out;
}

/** A table's header row from i18n keys. */
function head(keys) {
  return h('thead', {}, h('tr', {}, keys.map((k) => h('th', { scope: 'col' }, t(k)))));
}

/** "N minutes ago" for an age in seconds. */
export function ago(s) {
  if (s === null || s === undefined || Number.isNaN(s)) return '';
  s = Math.max(0, s);
  const [n, unit] = s < 60 ? [Math.round(s), 'second'] : s < 3600 ? [Math.round(s / 60), 'minute'] :
    s < 172800 ? [Math.round(s / 3600), 'hour'] : [Math.round(s / 86400), 'day'];
  return t('ago.' + unit + (n === 1 ? '' : 's')).replace('{n}', n);
}

function kindName(kind) {
  const k = 'hkind.' + kind;
  return t(k) === k ? kind : t(k);
}

/** A device's detail in the page's language. */
function detail(x) {
  return language() === 'en' ? (x.detail || '') : (x.detail_zh || x.detail || '');
}

function stateName(state) {
  const k = 'hstate.' + state;
  return t(k) === k ? state : t(k);
}

function worse(a, b) {
  const rank = { ok: 0, unknown: 1, warn: 2, fault: 3 };
  return rank[b] > rank[a] ? b : a;
}

/** The sign-in lockouts, each account's with its unlock button. */
function lockouts(list, reload) {
  const out = [h('h2', {}, t('lockouts'))];
  if (!list.length) {
    out.push(h('p', { class: 'empty' }, t('noLockouts')));
    return out;
  }
  out.push(h('table', { class: 'lockouts' },
    h('thead', {}, h('tr', {}, [t('account'), t('address'), t('failures'), t('until'), ''].map((c) => h('th', {}, c)))),
    h('tbody', {}, list.map((l) => h('tr', { dataset: { account: l.account, ip: l.ip } },
      h('td', {}, l.account || t('anyAccount')), h('td', {}, l.ip), h('td', {}, String(l.failures)),
      h('td', {}, fmtDateTime(l.until)),
      h('td', {}, l.account ? h('button', { type: 'button', class: 'unlock', onclick: () => unlockDialog(l.account, reload) }, t('unlock')) : ''))))));
  return out;
}

function unlockDialog(account, reload) {
  reasonDialog({
    id: 'unlock',
    title: [t('unlock.confirm'), h('span', { class: 'account' }, account)],
    send: async (reason) => {
      await api('/operators/' + encodeURIComponent(account) + '/unlock', { reason });
      reload();
    },
  });
}

// The gate's last log lines, newest first: time, level, the line as logged.
function logLines(r) {
  const out = [h('h2', {}, t('logLines'))];
  if (!r.reported) return [...out, h('p', { class: 'empty' }, t('logNotReported'))];
  if (!r.lines.length) return [...out, h('p', { class: 'empty' }, t('noLogLines'))];
  out.push(h('ol', { class: 'log-lines' }, r.lines.slice().reverse().map((l) => h('li', { class: 'log-' + l.level.toLowerCase() },
    h('time', {}, fmtDateTime(l.time)), ' ', h('span', { class: 'log-level' }, t('level.' + l.level)), ' ',
    h('span', { class: 'log-text' }, l.text)))));
  return out;
}
