// The face comparison by eye (人证对比): the live snapshot taken at the card
// swipe beside the card photo, for each person of an inspection, with the
// card's name, sex, birth year, masked ID number and the score when there
// is one. The images come from the kiosk with the session, are never cached,
// and each view is audited by the server.

import { t } from './i18n.js';
import { h, api } from './util.js';

/**
 * facePanel returns a node that fills itself with the inspection's face
 * images. The images are stored just after the decision, so a lane's
 * panel asks again a few times while none is kept yet (retry).
 */
export function facePanel(id, people, retry) {
  const node = h('div', { class: 'faces', dataset: { inspection: id } }, h('p', { class: 'faces-note' }, t('facesLoading')));
  let tries = retry ? 30 : 1;
  const load = () => {
    tries--;
    api('/inspections/' + encodeURIComponent(id) + '/faces').then((a) => {
      if (a.state === 'none' && tries > 0) { setTimeout(load, 1000); return; }
      node.dataset.state = a.state;
      if (a.state === 'purged') { node.replaceChildren(h('p', { class: 'faces-note faces-purged' }, t('facesPurged'))); return; }
      if (a.state !== 'kept') { node.replaceChildren(h('p', { class: 'faces-note' }, t('facesNone'))); return; }
      node.replaceChildren(...people.filter(([, p]) => p).map(([who, p, label]) => pair(id, who, p, label, a.images)));
    }).catch((e) => node.replaceChildren(h('p', { class: 'faces-note error' }, t('error') + e.message)));
  };
  load();
  return node;
}

// view numbers each image shown, so that the browser fetches (and the
// server audits) every view: an image of the same address would otherwise
// be reused from the page's memory, whatever Cache-Control says.
let view = 0;

function pair(id, who, p, label, images) {
  const img = (kind, title) => {
    const box = h('figure', { class: 'face-img' });
    if (images.includes(kind)) {
      box.append(h('img', { src: '/api/v1/inspections/' + encodeURIComponent(id) + '/faces/' + kind + '?view=' + Date.now().toString(36) + '-' + (++view), alt: title, dataset: { kind } }));
    } else {
      box.append(h('div', { class: 'face-missing' }, t('faceNoImage')));
    }
    box.append(h('figcaption', {}, title));
    return box;
  };
  const facts = [p.name, p.sex ? t('sex.' + p.sex) : null, p.birth_year ? t('born').replace('{y}', p.birth_year) : null, p.id_masked].filter(Boolean).join(' · ');
  const score = p.face === null || p.face === undefined ? t('faceNone') : p.face.toFixed(2);
  return h('div', { class: 'face-pair', dataset: { person: who } },
    h('div', { class: 'face-head' }, h('span', { class: 'label' }, label), facts),
    h('div', { class: 'face-imgs' }, img('face_' + who, t('faceLive')), img('card_' + who, t('faceCard'))),
    h('div', { class: 'face-score' }, t('face') + t('colon') + score));
}
