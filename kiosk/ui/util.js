// Small helpers shared by the views: building DOM without HTML strings
// (every server value goes in as text), calling the API, formatting times.

import { t, msg } from './i18n.js';

/** The session: {operator, role, csrf, gate, timezone}, or null. */
export const session = { current: null };

/**
 * h builds an element: h('div', {class: 'x', onclick: f}, child, 'text', ...).
 * Children that are strings become text nodes; null and false are skipped.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** An API error: status, code and message from the server's answer. */
export class APIError extends Error {
  constructor(status, code, message, text) {
    super(message);
    this.status = status;
    this.code = code;
    this.text = text || null; // {zh, en} when the server gave the message in both languages
  }
}

/**
 * api calls the JSON API. A body makes it a POST with the session's CSRF
 * token. It resolves to the answer's JSON and rejects with an APIError.
 */
export async function api(path, body) {
  const opts = { method: 'GET', headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    opts.method = 'POST';
    opts.headers['Content-Type'] = 'application/json';
    if (session.current) opts.headers['X-CSRF-Token'] = session.current.csrf;
    opts.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch('/api/v1' + path, opts);
  } catch (e) {
    throw new APIError(0, 'network', String(e));
  }
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (!res.ok) {
    const err = (data && data.error) || {};
    throw new APIError(res.status, err.code || 'http_' + res.status, err.message || res.statusText, err.text);
  }
  return data;
}

function zone() {
  return (session.current && session.current.timezone) || undefined;
}

function format(ts, opts) {
  if (!ts) return '';
  const d = new Date(ts);
  if (isNaN(d)) return '';
  try {
    return new Intl.DateTimeFormat('zh-CN', { ...opts, timeZone: zone(), hour12: false }).format(d);
  } catch (e) {
    return new Intl.DateTimeFormat('zh-CN', { ...opts, hour12: false }).format(d);
  }
}

/** A timestamp as date and time in the park's time zone. */
export function fmtDateTime(ts) {
  return format(ts, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** A timestamp as the time of day in the park's time zone. */
export function fmtTime(ts) {
  return format(ts, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** Today's date (YYYY-MM-DD) in the park's time zone, from a timestamp. */
export function dayOf(ts) {
  const d = new Date(ts || Date.now());
  try {
    const p = new Intl.DateTimeFormat('en-CA', { timeZone: zone(), year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
    return p;
  } catch (e) {
    return d.toISOString().slice(0, 10);
  }
}

/** A duration in seconds, in words: "95 s", "3 min", "2 h". */
export function fmtAge(s) {
  if (s === null || s === undefined) return '';
  if (s < 120) return Math.round(s) + ' ' + t('seconds');
  if (s < 7200) return Math.round(s / 60) + ' ' + t('minutes');
  return Math.round(s / 3600) + ' ' + t('hours');
}

/** mm:ss for a countdown (negative: overdue). */
export function fmtCountdown(ms) {
  const neg = ms < 0;
  const s = Math.floor(Math.abs(ms) / 1000);
  const txt = String(Math.floor(s / 60)).padStart(2, '0') + ':' + String(s % 60).padStart(2, '0');
  return neg ? '-' + txt : txt;
}

/** A status badge: colour and words, never colour alone. */
export function badge(status) {
  return h('span', { class: 'badge status-' + status }, t('status.' + status));
}

/** Bytes in GiB or MiB. */
export function fmtBytes(n) {
  if (n >= 1 << 30) return (n / (1 << 30)).toFixed(1) + ' GiB';
  return (n / (1 << 20)).toFixed(0) + ' MiB';
}

// reasonDialog asks for a reason before an action that the audit log
// records: title (DOM children), the confirm button's id and class, and
// send(reason), which does it; the dialog stays open with the error when
// send fails, and closes when it succeeds.
export function reasonDialog({ id, title, confirmClass = '', send }) {
  const reason = h('textarea', { id: id + '-reason', rows: 3, maxlength: 500, required: true, placeholder: t('reason') });
  const err = h('p', { class: 'error', role: 'alert' });
  const dlg = h('dialog', { class: 'confirm' },
    h('h2', {}, ...title),
    h('label', {}, t('reason'), reason), err,
    h('div', { class: 'buttons' },
      h('button', { type: 'button', class: confirmClass, id: id + '-confirm', onclick: async () => {
        if (!reason.value.trim()) { err.textContent = t('reasonRequired'); return; }
        try {
          await send(reason.value);
          dlg.close();
        } catch (e) { err.textContent = t('error') + (e.text ? msg(e.text) : e.message); }
      } }, t('confirm')),
      h('button', { type: 'button', onclick: () => dlg.close() }, t('cancel'))));
  dlg.addEventListener('close', () => dlg.remove());
  document.body.appendChild(dlg);
  dlg.showModal();
  reason.focus();
}
