package store

import (
	"context"
	"testing"
	"time"

	"github.com/hazgate/hazgate/lane"
)

// A sibling's passage heard twice is kept once; a passage older than the
// one held for its plate (heard late, from a presence view) does not change
// who is inside; plates are compared normalised.
func TestParkPassagesLatestWins(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	t0 := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	in := ParkPassage{ID: "01JW0000000000000000000001", Gate: "west-1", Lane: "in-1", Direction: lane.DirectionIn, Plate: "浙B10001", At: t0}
	out := ParkPassage{ID: "01JW0000000000000000000002", Gate: "north-1", Lane: "out-1", Direction: lane.DirectionOut, Plate: "浙b 10001", At: t0.Add(time.Hour)}
	for i, p := range []ParkPassage{in, out, in} {
		added, err := s.RecordParkPassage(ctx, p, t0)
		if err != nil {
			t.Fatal(err)
		}
		if want := i < 2; added != want {
			t.Fatalf("passage %d added %v, want %v", i, added, want)
		}
	}
	if inside, err := s.ParkInside(ctx); err != nil || len(inside) != 0 {
		t.Fatalf("inside %+v (%v): the later exit should win over the entry heard again", inside, err)
	}
	again := in
	again.ID, again.At = "01JW0000000000000000000003", t0.Add(2*time.Hour)
	if _, err := s.RecordParkPassage(ctx, again, t0); err != nil {
		t.Fatal(err)
	}
	p, ok, err := s.ParkPresent(ctx, "浙B10001")
	if err != nil || !ok || p.PassageID != again.ID || !p.Since.Equal(again.At) {
		t.Fatalf("present %+v %v %v, want the second entry", p, ok, err)
	}
	if _, err := s.RecordParkPassage(ctx, ParkPassage{ID: "x", Gate: "west-1", Direction: "sideways", Plate: "浙B1", At: t0}, t0); err == nil {
		t.Fatal("a passage neither in nor out was kept")
	}
}
