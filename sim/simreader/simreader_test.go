package simreader_test

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/device/idcard"
	"github.com/hazgate/hazgate/device/serialport"
	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/sim/simreader"
)

const bound = 15 * time.Second

func start(t *testing.T) (*simreader.Reader, <-chan idcard.Event) {
	t.Helper()
	r, err := simreader.New(filepath.Join(t.TempDir(), "hazgate-idcard-in1"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	cfg := idcard.ReaderConfig{
		Open:       func() (io.ReadWriteCloser, error) { return serialport.Open(r.Path(), 115200) },
		Poll:       5 * time.Millisecond,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
		Options: idcard.Options{Timeout: 300 * time.Millisecond},
	}
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan idcard.Event, 100)
	done := make(chan struct{})
	go func() {
		idcard.NewReader(cfg).Run(ctx, func(e idcard.Event) { events <- e })
		close(done)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return r, events
}

func next(t *testing.T, events <-chan idcard.Event, want idcard.EventKind) idcard.Event {
	t.Helper()
	select {
	case e := <-events:
		if e.Kind != want {
			t.Fatalf("got %v event (%v), want %v", e.Kind, e.Err, want)
		}
		return e
	case <-time.After(bound):
		t.Fatalf("no %v event in time", want)
	}
	return idcard.Event{}
}

func card(id string) idcard.Card {
	return simreader.CardFor(
		checks.PersonEvidence{IDNumber: id, Name: "张三", CardValidUntil: registry.Date(2036, 1, 1)},
		registry.Person{Gender: "男", Nation: "汉", Birth: registry.Date(1980, 1, 1), Address: "测试地址", Authority: "测试公安局"})
}

func TestCardsThroughThePty(t *testing.T) {
	r, events := start(t)
	kinds := []idcard.Card{card("990001198001010019")}
	j := card("990001197506150020")
	j.Kind, j.NationCode, j.PassNumber, j.IssueCount = idcard.KindHKMOTW, "", "H99000100", "01"
	y := card("990001199002280031")
	y.Kind, y.NationCode, y.EnglishName, y.CountryCode, y.Address, y.Authority = idcard.KindForeign2023, "", "TEST PERSON", "XXX", "", ""
	i := card("XXX990001000001")
	i.Kind, i.NationCode, i.EnglishName, i.Nationality, i.Address, i.Authority = idcard.KindForeign2017, "", "TEST, PERSON", "XXX", "", ""
	kinds = append(kinds, j, y, i)
	for _, c := range kinds {
		t.Run(string(c.Kind), func(t *testing.T) {
			if err := r.Present(c); err != nil {
				t.Fatal(err)
			}
			e := next(t, events, idcard.EventCard)
			if e.Card.Kind != c.Kind || e.Card.IDNumber != c.IDNumber || e.Card.Name != "张三" || len(e.Card.Photo) != 1024 || e.Card.IDNumberErr != nil {
				t.Fatalf("got %+v", e.Card)
			}
			if e.Card.Person().CardValidUntil != registry.Date(2036, 1, 1) {
				t.Fatalf("valid until %v", e.Card.ValidUntil)
			}
			r.Remove()
		})
	}
}

func TestUnplugAndPlugBack(t *testing.T) {
	r, events := start(t)
	r.Present(card("990001198001010019"))
	next(t, events, idcard.EventCard)
	if err := r.Unplug(); err != nil {
		t.Fatal(err)
	}
	e := next(t, events, idcard.EventFault)
	if !errors.Is(e.Err, idcard.ErrUnplugged) {
		t.Fatalf("fault %v, want unplugged", e.Err)
	}
	r.Remove()
	if err := r.Plug(); err != nil {
		t.Fatal(err)
	}
	next(t, events, idcard.EventRecovered)
	r.Present(card("990001197506150020"))
	if e := next(t, events, idcard.EventCard); e.Card.IDNumber != "990001197506150020" {
		t.Fatalf("got %q", e.Card.IDNumber)
	}
}

func TestNoiseAndSilence(t *testing.T) {
	r, events := start(t)
	r.Noise(true)
	for _, id := range []string{"990001198001010019", "990001197506150020"} {
		r.Present(card(id))
		if e := next(t, events, idcard.EventCard); e.Card.IDNumber != id {
			t.Fatalf("got %q", e.Card.IDNumber)
		}
		r.Remove()
	}
	r.Noise(false)
	r.Silence(true)
	if e := next(t, events, idcard.EventFault); !errors.Is(e.Err, idcard.ErrNotResponding) {
		t.Fatalf("fault %v, want not responding", e.Err)
	}
	r.Silence(false)
	next(t, events, idcard.EventRecovered)
}
