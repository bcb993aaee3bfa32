package record

import (
	"bytes"
	"context"
	"encoding/base64"
	"testing"
	"time"
)

// faceMap is a FaceSource for this package's tests: images by lane and ID
// number, each given once.
type faceMap map[string][2][]byte

func (f faceMap) TakeFaces(lane, idNumber string) (live, card []byte, ok bool) {
	v, ok := f[lane+"/"+idNumber]
	delete(f, lane+"/"+idNumber)
	return v[0], v[1], ok
}

// TestFacesKeptWithInspection: the live picture and the card photo of each
// person go with the inspection decided, in the store only (never in an
// event), and not with the next one.
func TestFacesKeptWithInspection(t *testing.T) {
	g, fleet, now := newGate(t)
	ctx := context.Background()
	v := fleet[0]
	live, card := []byte("\xff\xd8\xfflive"), []byte("\xff\xd8\xffcard")
	g.Faces = faceMap{
		"in-1/" + v.driver.IDNumber: {live, card},
		"in-1/" + v.escort.IDNumber: {live, nil}, // no card photo answered
	}
	ev := evidenceFor(v, now)
	id, _, err := g.Decide(ctx, "in-1", ev, now.Add(21*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	g.WaitFaces()
	media, err := g.Store.MediaFor(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]byte{}
	for _, m := range media {
		got[m.Kind] = m.Data
	}
	want := map[string][]byte{MediaFaceDriver: live, MediaCardDriver: card, MediaFaceEscort: live}
	if len(got) != len(want) {
		t.Fatalf("kinds stored %v, want %v", keys(got), keys(want))
	}
	for k, w := range want {
		if !bytes.Equal(got[k], w) {
			t.Fatalf("%s = %q, want %q", k, got[k], w)
		}
	}
	rows, err := g.Store.PendingOutbox(ctx, 0, 100)
	if err != nil || len(rows) == 0 {
		t.Fatalf("outbox: %d rows, %v", len(rows), err)
	}
	for _, r := range rows {
		for _, img := range [][]byte{live, card} {
			if bytes.Contains(r.Payload, []byte(base64.StdEncoding.EncodeToString(img))) || bytes.Contains(r.Payload, img) {
				t.Fatalf("the %s event carries a face image: %s", r.Topic, r.Payload)
			}
		}
	}
	id2, _, err := g.Decide(ctx, "in-1", ev, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	g.WaitFaces()
	if media, err := g.Store.MediaFor(ctx, id2); err != nil || len(media) != 0 {
		t.Fatalf("the next inspection got %d images (%v)", len(media), err)
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
