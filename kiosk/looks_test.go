package kiosk

import (
	"strconv"
)

// The kiosk's looks, checked in the browser: every character on the page
// has a glyph (Chinese renders with a CJK font, not as boxes), links are
// readable on their rows (WCAG AA), English is in sentence case, and no raw
// keys or JSON reach the inspection page.

// glyphsJS draws each distinct non-ASCII character on the page with the
// page's font on a canvas, and returns how many there were and those that
// drew as the missing-glyph box (the drawing of private-use characters no
// font has) or the same as two or more other characters (boxes again).
const glyphsJS = `(() => {
  const font = getComputedStyle(document.body).fontFamily;
  const chars = [...new Set([...document.body.innerText].filter((c) => c.codePointAt(0) > 0x7f && !/\s/.test(c)))];
  const cv = document.createElement('canvas');
  cv.width = 48; cv.height = 48;
  const cx = cv.getContext('2d', { willReadFrequently: true });
  const draw = (c) => {
    cx.clearRect(0, 0, 48, 48);
    cx.font = '36px ' + font;
    cx.fillStyle = '#000';
    cx.textBaseline = 'top';
    cx.fillText(c, 4, 4);
    return cx.getImageData(0, 0, 48, 48).data.join(',');
  };
  const tofu = new Set([draw('\uE000'), draw('\uE7C8'), draw('\u{10FFFD}')]);
  const groups = new Map();
  const bad = [];
  for (const c of chars) {
    const p = draw(c);
    if (tofu.has(p)) bad.push(c);
    groups.set(p, (groups.get(p) || '') + c);
  }
  for (const g of groups.values()) if ([...g].length >= 3) bad.push(g);
  return { n: chars.length, bad: bad.join(' ') };
})()`

type glyphAnswer struct {
	N   int    `json:"n"`
	Bad string `json:"bad"`
}

// allGlyphs fails the test when a character on the page has no glyph.
func (b *browser) allGlyphs(page string, atLeast int) {
	b.t.Helper()
	g := eval[glyphAnswer](b, glyphsJS)
	if g.Bad != "" {
		b.t.Errorf("%s: characters drawn as missing glyphs: %q (apt-get install fonts-noto-cjk)", page, g.Bad)
	}
	if g.N < atLeast {
		b.t.Errorf("%s: only %d distinct non-ASCII characters on the page, want at least %d", page, g.N, atLeast)
	}
}

// contrastJS returns, for each link on the page, its text, its colour's
// contrast ratio (WCAG 2) against the first opaque background behind it.
const contrastJS = `(() => {
  const rgb = (s) => s.match(/[\d.]+/g).map(Number);
  const lum = (c) => {
    const [r, g, b] = c.slice(0, 3).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const bg = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length < 4 || c[3] > 0) return c;
    }
    return [255, 255, 255];
  };
  return [...document.querySelectorAll('a')].filter((a) => a.offsetParent).map((a) => {
    const f = lum(rgb(getComputedStyle(a).color)), k = lum(bg(a));
    return { text: a.textContent, ratio: (Math.max(f, k) + 0.05) / (Math.min(f, k) + 0.05) };
  });
})()`

type linkContrast struct {
	Text  string  `json:"text"`
	Ratio float64 `json:"ratio"`
}

// readableLinks fails the test when a link's contrast is below WCAG AA
// (4.5:1) and returns how many links it checked.
func (b *browser) readableLinks(page string) int {
	b.t.Helper()
	links := eval[[]linkContrast](b, contrastJS)
	for _, l := range links {
		if l.Ratio < 4.5 {
			b.t.Errorf("%s: link %q has contrast %.2f:1 against its background, want at least 4.5:1", page, l.Text, l.Ratio)
		}
	}
	return len(links)
}

// noRawText fails the test when the element's text has a raw key
// (snake_case or a dotted.key), JSON or an "operator:" actor.
func (b *browser) noRawText(page, selector string) {
	b.t.Helper()
	raw := eval[string](b, `(() => {
  const text = document.querySelector(`+strconv.Quote(selector)+`)?.innerText || '';
  return (text.match(/[a-z]+_[a-z_]+|[a-z]+\.[a-z_]+|[{}"]|operator:|remote:/g) || []).join(' ');
})()`)
	if raw != "" {
		b.t.Errorf("%s: raw keys or JSON on the screen: %s", page, raw)
	}
}

// sentenceCase fails the test when the element's English text has a word
// in capitals (three letters or more; CSV, MQTT and ID aside).
func (b *browser) sentenceCase(page, selector string) {
	b.t.Helper()
	caps := eval[string](b, `((document.querySelector(`+strconv.Quote(selector)+`)?.innerText || '').match(/\b[A-Z]{3,}\b/g) || [])
  .filter((w) => !['CSV', 'MQTT'].includes(w)).join(' ')`)
	if caps != "" {
		b.t.Errorf("%s: English not in sentence case: %s", page, caps)
	}
}
