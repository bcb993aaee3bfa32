package record

import (
	"bytes"
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
)

// TestPlatePicturesKeptWithInspection: the camera's plate and scene
// pictures go with the inspection into the store (never into an event),
// and are purged with the face images.
func TestPlatePicturesKeptWithInspection(t *testing.T) {
	g, fleet, now := newGate(t)
	ctx := context.Background()
	ev := evidenceFor(fleet[0], now)
	pics := &checks.PlatePictures{Plate: []byte("\xff\xd8\xffplate"), Scene: []byte("\xff\xd8\xffscene")}
	ev.Pictures, ev.PlateColor = pics, "yellow"
	at := now.Add(21 * time.Second)
	id, _, err := g.Decide(ctx, "in-1", ev, at)
	if err != nil {
		t.Fatal(err)
	}
	g.WaitFaces()
	for kind, want := range map[string][]byte{MediaPlate: pics.Plate, MediaScene: pics.Scene} {
		m, err := g.Store.MediaOne(ctx, id, kind)
		if err != nil || !bytes.Equal(m.Data, want) {
			t.Fatalf("%s: %q, %v", kind, m.Data, err)
		}
	}
	rows, err := g.Store.PendingOutbox(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		for _, img := range [][]byte{pics.Plate, pics.Scene} {
			if bytes.Contains(r.Payload, []byte(base64.StdEncoding.EncodeToString(img))) || bytes.Contains(r.Payload, img) {
				t.Fatalf("the %s event carries a plate picture", r.Topic)
			}
		}
	}
	if n, err := g.Store.PurgeMedia(ctx, at.Add(time.Second)); err != nil || n != 2 {
		t.Fatalf("purged %d, %v", n, err)
	}
}
