package sim

import (
	"bytes"
	"context"
	"image/jpeg"
	"testing"

	"github.com/hazgate/hazgate/store"
)

// TestDemoKeepsFaces: in the demo, the real matcher's live snapshots and
// the simulated service's drawn card photos are stored with the
// inspections, and no event carries them.
func TestDemoKeepsFaces(t *testing.T) {
	sc, err := Parse(DemoYAML, "demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e, _ := runEngine(t, sc, Options{})
	e.gate.Keeper.WaitFaces()
	ctx := context.Background()
	list, err := e.Store().ListInspections(ctx, store.Filter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	pairs := 0
	var images [][]byte
	for _, in := range list {
		ms, err := e.Store().MediaFor(ctx, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string][]byte{}
		for _, m := range ms {
			kinds[m.Kind] = m.Data
			images = append(images, m.Data)
		}
		if kinds["face_driver"] != nil && kinds["card_driver"] != nil {
			pairs++
			img, err := jpeg.Decode(bytes.NewReader(kinds["card_driver"]))
			if err != nil || img.Bounds().Dx() != 102 || img.Bounds().Dy() != 126 {
				t.Fatalf("%s: the card photo does not decode as the drawn 102×126 placeholder: %v", in.ID, err)
			}
		}
	}
	if pairs == 0 {
		t.Fatalf("no inspection of %d kept a driver's live snapshot and card photo", len(list))
	}
	rows, err := e.Store().PendingOutbox(ctx, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		for _, img := range images {
			if bytes.Contains(r.Payload, img[:64]) {
				t.Fatalf("the %s event carries a face image", r.Topic)
			}
		}
	}
}
