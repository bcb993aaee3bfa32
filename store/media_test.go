package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hazgate/hazgate/clock"
)

func TestPurgeMedia(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	jpeg := []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0, 0xFF, 0xD9}
	for i, m := range []Media{
		{InspectionID: "I1", Kind: "face_driver", Data: jpeg, CreatedAt: t0.Add(-8 * 24 * time.Hour)},
		{InspectionID: "I1", Kind: "face_escort", Data: jpeg, CreatedAt: t0.Add(-7*24*time.Hour - time.Second)},
		{InspectionID: "I2", Kind: "face_driver", Data: jpeg, CreatedAt: t0.Add(-7 * 24 * time.Hour)},
		{InspectionID: "I3", Kind: "face_driver", CreatedAt: t0},
	} {
		if err := s.PutMedia(ctx, m); err != nil {
			t.Fatalf("PutMedia %d: %v", i, err)
		}
	}
	if err := s.PutMedia(ctx, Media{Kind: "face_driver", CreatedAt: t0}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("PutMedia without an inspection: %v, want ErrInvalid", err)
	}

	tests := []struct {
		name   string
		before time.Time
		want   int
	}{
		{"older than the retention period", t0.Add(-7 * 24 * time.Hour), 2},
		{"again: nothing left to purge", t0.Add(-7 * 24 * time.Hour), 0},
		{"everything before now", t0.Add(time.Nanosecond), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := s.PurgeMedia(ctx, tt.before)
			if err != nil || n != tt.want {
				t.Fatalf("PurgeMedia = %d, %v; want %d", n, err, tt.want)
			}
		})
	}
	if got, err := s.MediaFor(ctx, "I1"); err != nil || len(got) != 0 {
		t.Fatalf("MediaFor(I1) after purge = %d images, %v", len(got), err)
	}
	purges, err := s.AuditFor(ctx, "media")
	if err != nil || len(purges) != 2 {
		t.Fatalf("audit of purges = %+v, %v; want 2 entries", purges, err)
	}
}

func TestMediaRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	data := bytes.Repeat([]byte{0, 1, 2, 0xFF}, 5000)
	if err := s.PutMedia(ctx, Media{InspectionID: "I1", Kind: "face_driver", Data: data, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	got, err := s.MediaFor(ctx, "I1")
	if err != nil || len(got) != 1 || !bytes.Equal(got[0].Data, data) || !got[0].CreatedAt.Equal(t0) {
		t.Fatalf("MediaFor = %+v, %v", got, err)
	}
}

func TestPurgedMediaLeaveNoTrace(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db")
	s, err := Open(ctx, path, WithClock(clock.NewFake(t0)))
	if err != nil {
		t.Fatal(err)
	}
	face := bytes.Repeat([]byte("synthetic-face-"), 2000) // 30 KB, overflow pages
	if err := s.PutMedia(ctx, Media{InspectionID: "I1", Kind: "face_driver", Data: face, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PurgeMedia(ctx, t0.Add(time.Second)); err != nil || n != 1 {
		t.Fatalf("PurgeMedia = %d, %v", n, err)
	}
	var secure int
	if err := s.writer.QueryRow(`PRAGMA secure_delete`).Scan(&secure); err != nil || secure != 0 {
		t.Fatalf("secure_delete after the purge = %d (%v), want it reset to 0", secure, err)
	}
	if err := s.Close(); err != nil { // folds the log into the file
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal"} {
		data, err := os.ReadFile(p)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte("synthetic-face-synthetic-face-")) {
			t.Fatalf("%s still holds the purged image", filepath.Base(p))
		}
	}
}

// TestMediaKindsOneAndPurgedBefore: the kiosk lists an inspection's images,
// reads one, and tells purged images from none kept.
func TestMediaKindsOneAndPurgedBefore(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	if b, err := s.MediaPurgedBefore(ctx); err != nil || !b.IsZero() {
		t.Fatalf("purged before with no purge = %v, %v", b, err)
	}
	live, card := []byte{0xFF, 0xD8, 0xFF, 1}, []byte{0xFF, 0xD8, 0xFF, 2}
	for _, m := range []Media{
		{InspectionID: "I1", Kind: "face_driver", Data: []byte{0xFF, 0xD8, 0xFF, 0}, CreatedAt: t0},
		{InspectionID: "I1", Kind: "card_driver", Data: card, CreatedAt: t0},
		{InspectionID: "I1", Kind: "face_driver", Data: live, CreatedAt: t0},
		{InspectionID: "I0", Kind: "face_driver", Data: live, CreatedAt: t0.Add(-9 * 24 * time.Hour)},
	} {
		if err := s.PutMedia(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	kinds, err := s.MediaKinds(ctx, "I1")
	if err != nil || len(kinds) != 2 || kinds[0] != "face_driver" || kinds[1] != "card_driver" {
		t.Fatalf("kinds = %v, %v", kinds, err)
	}
	m, err := s.MediaOne(ctx, "I1", "face_driver")
	if err != nil || !bytes.Equal(m.Data, live) || !m.CreatedAt.Equal(t0) {
		t.Fatalf("face_driver = %v (%v), %v; want the latest", m.Data, m.CreatedAt, err)
	}
	if _, err := s.MediaOne(ctx, "I1", "face_escort"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a kind not stored: %v, want ErrNotFound", err)
	}
	before := t0.Add(-7 * 24 * time.Hour)
	if n, err := s.PurgeMedia(ctx, before); err != nil || n != 1 {
		t.Fatalf("purge = %d, %v", n, err)
	}
	if _, err := s.PurgeMedia(ctx, before.Add(time.Hour)); err != nil { // deletes nothing: not audited
		t.Fatal(err)
	}
	if b, err := s.MediaPurgedBefore(ctx); err != nil || !b.Equal(before) {
		t.Fatalf("purged before = %v, %v; want %v", b, err, before)
	}
	if kinds, err := s.MediaKinds(ctx, "I0"); err != nil || len(kinds) != 0 {
		t.Fatalf("purged kinds = %v, %v", kinds, err)
	}
}
