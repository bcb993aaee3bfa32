// The gate's evacuation at the kiosk: the banner every page shows while it
// lasts (who may end it), and the supervisor's switch with its confirmation
// and reason. Only a supervisor sees the switch; one the office started is
// not the kiosk's to end, so the switch is hidden then.

import { t } from './i18n.js';
import { api, session, reasonDialog } from './util.js';
import { evacuation } from './lanes.js';

/** The evacuation banner and switch follow the lanes. */
export function renderEvacuation() {
  const by = evacuation();
  const banner = document.querySelector('#evacuation-banner');
  banner.hidden = !by;
  banner.textContent = by ? t('evac.banner') + ' ' + t('evac.by.' + by) : '';
  document.body.classList.toggle('evacuating', !!by);
  const btn = document.querySelector('#evacuate');
  const sup = session.current && session.current.role === 'supervisor';
  btn.hidden = !sup || by === 'office';
  btn.textContent = by ? t('evac.off') : t('evac.on');
  btn.classList.toggle('danger', !by);
}

export function evacuationDialog() {
  const on = !evacuation();
  reasonDialog({
    id: 'evacuate',
    title: [on ? t('evac.confirm.on') : t('evac.confirm.off')],
    confirmClass: on ? 'danger' : '',
    send: (reason) => api('/evacuation', { on, reason }),
  });
}
