// The outdoor display of one lane (/display/<lane>): what the driver must
// do now, in Chinese and English, the plate, the countdown to the lane's
// deadline, the outcome, and a note beside the prompt (the waybill found
// from the plate: no scan needed). It follows /display/<lane>/events, which sends
// the whole view on every (re)connection, so it recovers by itself when the
// gate restarts. Only textContent is written: nothing it shows is markup.

const lane = decodeURIComponent(location.pathname.split('/')[2] || '');
const $ = (id) => document.getElementById(id);
let view = null;
let skew = 0; // the gate's clock minus this screen's

const states = {
  pass: 'pass', released: 'pass', goodbye: 'pass',
  refused: 'refused', closed: 'refused',
  review: 'review', checking: 'checking',
  idle: 'idle',
};

function render() {
  if (!view) return;
  $('lane').textContent = `车道 ${view.lane} / Lane ${view.lane}`;
  $('zh').textContent = view.zh;
  $('en').textContent = view.en;
  document.body.className = 'state-' + (states[view.prompt] || 'act');
  const plate = $('plate');
  plate.hidden = !view.plate;
  plate.textContent = view.plate || '';
  const note = view.note || null;
  $('note').hidden = !note;
  $('note-zh').textContent = note ? note.zh : '';
  $('note-en').textContent = note ? note.en : '';
  const list = $('reasons');
  list.replaceChildren();
  for (const r of view.reasons || []) {
    const li = document.createElement('li');
    const zh = document.createElement('span');
    zh.className = 'rzh';
    zh.textContent = r.zh;
    const en = document.createElement('span');
    en.className = 'ren';
    en.textContent = r.en;
    li.append(zh, en);
    list.append(li);
  }
  list.hidden = list.childElementCount === 0;
  tick();
}

function tick() {
  const el = $('countdown');
  if (!view || !view.deadline) {
    el.hidden = true;
    return;
  }
  const left = Math.max(0, Math.ceil((Date.parse(view.deadline) - (Date.now() + skew)) / 1000));
  el.hidden = false;
  el.textContent = `剩余 ${left} 秒 / ${left} s left`;
}

function connected(ok) {
  $('conn').hidden = ok;
}

function connect() {
  const es = new EventSource(`/display/${encodeURIComponent(lane)}/events`);
  es.addEventListener('view', (e) => {
    view = JSON.parse(e.data);
    skew = Date.parse(view.server_time) - Date.now();
    connected(true);
    render();
  });
  es.onerror = () => {
    connected(false);
    if (es.readyState === EventSource.CLOSED) {
      // Refused (the gate restarting behind a proxy, say): try again.
      setTimeout(connect, 3000);
    }
  };
}

setInterval(tick, 500);
connect();
