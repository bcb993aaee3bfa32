// What the plate camera saw with the plate: the plate's colour and the
// danger mark (placard), as tags beside the plate; and on an inspection's
// page the camera's plate and scene pictures, fetched with the session,
// never cached, each view audited by the server (as the face images are).

import { t } from './i18n.js';
import { h, api } from './util.js';

/** plateMarks returns the colour and placard tags of a lane or an inspection (v.plate_color, v.placard). */
export function plateMarks(v) {
  const out = [];
  if (v.plate_color) {
    out.push(h('span', { class: 'plate-color plate-color-' + v.plate_color, dataset: { color: v.plate_color } }, t('plateColor.' + v.plate_color)));
  }
  if (v.placard === true) out.push(h('span', { class: 'placard placard-seen', dataset: { placard: 'seen' } }, '◆ ' + t('placardSeen')));
  if (v.placard === false) out.push(h('span', { class: 'placard placard-missing', dataset: { placard: 'missing' } }, '⚠ ' + t('placardNotSeen')));
  return out;
}

/** plateLine is the words for a facts table: colour · placard, or a dash. */
export function plateLine(v) {
  const words = [];
  if (v.plate_color) words.push(t('plateColor.' + v.plate_color));
  if (v.placard === true) words.push(t('placardSeen'));
  if (v.placard === false) words.push(t('placardNotSeen'));
  return words.length ? words.join(' · ') : '—';
}

// view numbers each picture shown, so that every view is fetched (and
// audited), as faces.js does.
let view = 0;

/** platePanel returns a node that fills itself with the inspection's plate pictures. */
export function platePanel(id) {
  const node = h('div', { class: 'plate-pictures', dataset: { inspection: id } }, h('p', { class: 'plates-note' }, t('platePicturesLoading')));
  api('/inspections/' + encodeURIComponent(id) + '/plate-pictures').then((a) => {
    node.dataset.state = a.state;
    if (a.state === 'purged') { node.replaceChildren(h('p', { class: 'plates-note plates-purged' }, t('platePicturesPurged'))); return; }
    if (a.state !== 'kept') { node.replaceChildren(h('p', { class: 'plates-note' }, t('platePicturesNone'))); return; }
    node.replaceChildren(...a.images.map((kind) => h('figure', { class: 'plate-picture plate-picture-' + kind },
      h('img', { src: '/api/v1/inspections/' + encodeURIComponent(id) + '/plate-pictures/' + kind + '?view=' + Date.now().toString(36) + '-' + (++view), alt: t('platePicture.' + kind), dataset: { kind } }),
      h('figcaption', {}, t('platePicture.' + kind)))));
  }).catch((e) => node.replaceChildren(h('p', { class: 'plates-note error' }, t('error') + e.message)));
  return node;
}
