package simhttp

import (
	"bytes"
	"hash/fnv"
	"image"
	"image/color"
	"image/jpeg"
)

// Portrait draws a synthetic portrait: a plain silhouette (a head and
// shoulders of flat colour) on a background, no real person and no text.
// card draws it as an ID card photo (102×126, the card's pale background),
// otherwise as a camera's live picture (160×120, a grey scene). seed varies
// the silhouette's shade, so that two people's pictures differ.
func Portrait(seed string, card bool) []byte {
	h := fnv.New32a()
	h.Write([]byte(seed))
	v := h.Sum32()
	w, ht := 160, 120
	bg := func(x, y int) color.RGBA { // a grey scene, darker towards the floor
		g := uint8(150 - y/3)
		return color.RGBA{g, g + 6, g + 10, 255}
	}
	if card {
		w, ht = 102, 126
		bg = func(int, int) color.RGBA { return color.RGBA{232, 240, 250, 255} }
	}
	img := image.NewRGBA(image.Rect(0, 0, w, ht))
	shade := uint8(60 + v%60)
	body := color.RGBA{shade, shade + 10, shade + 30, 255}
	skin := color.RGBA{200 - uint8(v>>8%40), 170 - uint8(v>>8%40), 140 - uint8(v>>8%30), 255}
	cx, cy := float64(w)/2, float64(ht)*0.42
	r := float64(ht) * 0.2
	for y := 0; y < ht; y++ {
		for x := 0; x < w; x++ {
			dx, dy := float64(x)-cx, float64(y)-cy
			c := bg(x, y)
			// shoulders: the top of an ellipse below the head
			sx, sy := float64(x)-cx, float64(y)-float64(ht)*1.05
			if sx*sx/(r*r*4.4)+sy*sy/(r*r*2.6) <= 1 {
				c = body
			}
			// head: an ellipse, a little taller than wide
			if dx*dx/(r*r*0.7)+dy*dy/(r*r) <= 1 {
				c = skin
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	jpeg.Encode(&b, img, &jpeg.Options{Quality: 85})
	return b.Bytes()
}
