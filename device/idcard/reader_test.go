package idcard_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/device/idcard"
	"github.com/hazgate/hazgate/device/idcard/idcardtest"
	"github.com/hazgate/hazgate/registry"
)

const bound = 10 * time.Second // a generous bound on waiting for an event

func person(id, name string) idcard.Card {
	return idcard.Card{Kind: idcard.KindResident, Name: name, GenderCode: "1", NationCode: "01",
		Birth: registry.Date(1980, 1, 1), IDNumber: id, Address: "测试地址", Authority: "测试公安局",
		ValidFrom: registry.Date(2016, 1, 1), ValidUntil: registry.Date(2036, 1, 1)}
}

func fakeCard(t *testing.T, c idcard.Card) idcardtest.Card {
	t.Helper()
	k, err := idcardtest.FromCard(c)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// link plugs a fake reader into Readers through pipes; Unplug closes the
// current pipe and makes Open fail until Plug.
type link struct {
	fake *idcardtest.Reader
	mu   sync.Mutex
	up   bool
	cur  net.Conn
}

func newLink(fake *idcardtest.Reader) *link { return &link{fake: fake, up: true} }

func (l *link) Open() (io.ReadWriteCloser, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.up {
		return nil, errors.New("no such device")
	}
	a, b := net.Pipe()
	l.cur = b
	go func() { l.fake.Serve(context.Background(), b); b.Close() }()
	return a, nil
}

func (l *link) Unplug() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.up = false
	if l.cur != nil {
		l.cur.Close()
	}
}

func (l *link) Plug() { l.mu.Lock(); l.up = true; l.mu.Unlock() }

// run starts a Reader and returns its events.
func run(t *testing.T, cfg idcard.ReaderConfig) <-chan idcard.Event {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan idcard.Event, 100)
	done := make(chan struct{})
	go func() {
		idcard.NewReader(cfg).Run(ctx, func(e idcard.Event) { events <- e })
		close(done)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return events
}

func next(t *testing.T, events <-chan idcard.Event) idcard.Event {
	t.Helper()
	select {
	case e := <-events:
		return e
	case <-time.After(bound):
		t.Fatal("no event in time")
	}
	return idcard.Event{}
}

// quiet asserts that nothing is reported while the fake serves n more
// finds, i.e. the reader keeps polling without reporting.
func quiet(t *testing.T, fake *idcardtest.Reader, events <-chan idcard.Event, polls int) {
	t.Helper()
	seen := make(chan struct{}, 1000)
	fake.OnFind(func() { seen <- struct{}{} })
	defer fake.OnFind(nil)
	for i := 0; i < polls; i++ {
		select {
		case e := <-events:
			t.Fatalf("unexpected %v event: %v", e.Kind, e.Err)
		case <-seen:
		case <-time.After(bound):
			t.Fatal("reader stopped polling")
		}
	}
}

func fastConfig(l *link) idcard.ReaderConfig {
	return idcard.ReaderConfig{Open: l.Open, Poll: time.Millisecond, MinBackoff: time.Millisecond,
		Options: idcard.Options{Timeout: 200 * time.Millisecond}}
}

func TestReaderOneReportPerPresentation(t *testing.T) {
	fake := idcardtest.New()
	l := newLink(fake)
	events := run(t, fastConfig(l))
	a := person("990001198001010019", "张三")
	fake.Present(fakeCard(t, a))
	e := next(t, events)
	if e.Kind != idcard.EventCard || e.Card.IDNumber != a.IDNumber || e.Card.Name != "张三" || len(e.Card.Photo) != 1024 {
		t.Fatalf("got %v %+v", e.Kind, e.Card)
	}
	// Left on the reader: not reported again.
	quiet(t, fake, events, 10)
	// Taken away and presented again: reported again.
	fake.Remove()
	quiet(t, fake, events, 3)
	fake.Present(fakeCard(t, a))
	if e := next(t, events); e.Kind != idcard.EventCard || e.Card.IDNumber != a.IDNumber {
		t.Fatalf("second presentation: %v", e.Kind)
	}
}

// TestReaderCardStaysFound covers readers that keep answering 9F while a
// read card stays in the field: it is still reported once, and a card
// swapped for it is reported.
func TestReaderCardStaysFound(t *testing.T) {
	fake := idcardtest.New()
	fake.SetStayFound(true)
	l := newLink(fake)
	events := run(t, fastConfig(l))
	fake.Present(fakeCard(t, person("990001197506150020", "王五")))
	if e := next(t, events); e.Kind != idcard.EventCard {
		t.Fatalf("got %v", e.Kind)
	}
	quiet(t, fake, events, 10)
	// Re-read now and then (to see a swapped card), not at every poll.
	if n := fake.Reads(); n > 4 {
		t.Fatalf("card read %d times in 10 polls", n)
	}
}

func TestReaderNoise(t *testing.T) {
	fake := idcardtest.New()
	fake.SetNoise(true)
	l := newLink(fake)
	events := run(t, fastConfig(l))
	for _, id := range []string{"990001198001010019", "990001197506150020", "990001199002280031"} {
		fake.Present(fakeCard(t, person(id, "测试")))
		e := next(t, events)
		if e.Kind != idcard.EventCard || e.Card.IDNumber != id {
			t.Fatalf("got %v %v", e.Kind, e.Err)
		}
		fake.Remove()
		quiet(t, fake, events, 3)
	}
}

func TestReaderSilenceIsAFault(t *testing.T) {
	fake := idcardtest.New()
	l := newLink(fake)
	events := run(t, fastConfig(l))
	quiet(t, fake, events, 2)
	fake.SetSilent(true)
	e := next(t, events)
	if e.Kind != idcard.EventFault || !errors.Is(e.Err, idcard.ErrNotResponding) || !errors.Is(e.Err, idcard.ErrDeviceFault) {
		t.Fatalf("got %v %v, want a not-responding fault", e.Kind, e.Err)
	}
	fake.SetSilent(false)
	if e := next(t, events); e.Kind != idcard.EventRecovered {
		t.Fatalf("got %v, want recovered", e.Kind)
	}
	fake.Present(fakeCard(t, person("990001198001010019", "张三")))
	if e := next(t, events); e.Kind != idcard.EventCard {
		t.Fatalf("got %v after recovery", e.Kind)
	}
}

func TestReaderSAMFailure(t *testing.T) {
	fake := idcardtest.New()
	fake.SetSAM(0x60)
	l := newLink(fake)
	events := run(t, fastConfig(l))
	if e := next(t, events); e.Kind != idcard.EventFault || !errors.Is(e.Err, idcard.ErrSAMSelfTest) {
		t.Fatalf("got %v %v", e.Kind, e.Err)
	}
	fake.SetSAM(0x90)
	if e := next(t, events); e.Kind != idcard.EventRecovered {
		t.Fatalf("got %v", e.Kind)
	}
}

func TestReaderBadCardData(t *testing.T) {
	fake := idcardtest.New()
	l := newLink(fake)
	events := run(t, fastConfig(l))
	k := fakeCard(t, person("990001198001010019", "张三"))
	copy(k.Text[204:], []byte{'X', 0}) // valid-until is no longer a date
	fake.Present(k)
	e := next(t, events)
	if e.Kind != idcard.EventCardError || !errors.Is(e.Err, idcard.ErrBadCardData) {
		t.Fatalf("got %v %v", e.Kind, e.Err)
	}
	quiet(t, fake, events, 5)
}

func TestReaderReadFailsThenWorks(t *testing.T) {
	fake := idcardtest.New()
	l := newLink(fake)
	events := run(t, fastConfig(l))
	fake.SetStatus(idcard.CmdRead, 0x41)
	fake.Present(fakeCard(t, person("990001198001010019", "张三")))
	e := next(t, events)
	if e.Kind != idcard.EventCardError || !errors.Is(e.Err, idcard.ErrReadFailed) || !errors.Is(e.Err, idcard.ErrCardFault) {
		t.Fatalf("got %v %v", e.Kind, e.Err)
	}
	fake.SetStatus(idcard.CmdRead, 0)
	fake.Remove()
	quiet(t, fake, events, 3)
	fake.Present(fakeCard(t, person("990001198001010019", "张三")))
	if e := next(t, events); e.Kind != idcard.EventCard {
		t.Fatalf("got %v", e.Kind)
	}
}

// notifyClock is a fake clock that tells the test about each timer set, so
// the test advances it exactly when the reader waits.
type notifyClock struct {
	*clock.Fake
	set chan time.Duration
}

func (c notifyClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	t := c.Fake.AfterFunc(d, f)
	c.set <- d
	return t
}

// waitTimer waits for a timer of duration d to be set, skipping others.
func waitTimer(t *testing.T, c notifyClock, d time.Duration) {
	t.Helper()
	deadline := time.After(bound)
	for {
		select {
		case got := <-c.set:
			if got == d {
				return
			}
		case <-deadline:
			t.Fatalf("no %v timer set", d)
		}
	}
}

// TestReaderUnplugBackoff unplugs the reader: a fault is reported once, the
// reader is reopened after 1 s, 2 s, 4 s on the clock, and when it is back
// it recovers and reads cards again.
func TestReaderUnplugBackoff(t *testing.T) {
	fake := idcardtest.New()
	l := newLink(fake)
	clk := notifyClock{clock.NewFake(time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC)), make(chan time.Duration, 1000)}
	cfg := idcard.ReaderConfig{Open: l.Open, Poll: 200 * time.Millisecond, MinBackoff: time.Second, MaxBackoff: 4 * time.Second,
		Options: idcard.Options{Clock: clk, Timeout: 300 * time.Millisecond}}
	events := run(t, cfg)
	waitTimer(t, clk, 200*time.Millisecond) // polling
	l.Unplug()
	clk.Advance(200 * time.Millisecond)
	e := next(t, events)
	if e.Kind != idcard.EventFault || !errors.Is(e.Err, idcard.ErrUnplugged) {
		t.Fatalf("got %v %v, want an unplugged fault", e.Kind, e.Err)
	}
	for _, d := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		waitTimer(t, clk, d)
		clk.Advance(d)
	}
	waitTimer(t, clk, 4*time.Second) // at most MaxBackoff
	l.Plug()
	clk.Advance(4 * time.Second)
	if e := next(t, events); e.Kind != idcard.EventRecovered {
		t.Fatalf("got %v, want recovered", e.Kind)
	}
	fake.Present(fakeCard(t, person("990001198001010019", "张三")))
	waitTimer(t, clk, 200*time.Millisecond)
	clk.Advance(200 * time.Millisecond)
	if e := next(t, events); e.Kind != idcard.EventCard {
		t.Fatalf("got %v", e.Kind)
	}
}

func TestBackoff(t *testing.T) {
	r := idcard.NewReader(idcard.ReaderConfig{MinBackoff: 500 * time.Millisecond, MaxBackoff: 30 * time.Second})
	for n, want := range []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second} {
		if got := r.Backoff(n); got != want {
			t.Fatalf("Backoff(%d) = %v, want %v", n, got, want)
		}
	}
}

// TestReaderSwapWithoutGap presents a second card with no "no card" answer
// in between (possible in the simulator): it is a new presentation.
func TestReaderSwapWithoutGap(t *testing.T) {
	for _, stay := range []bool{false, true} {
		fake := idcardtest.New()
		fake.SetStayFound(stay)
		l := newLink(fake)
		events := run(t, fastConfig(l))
		fake.Present(fakeCard(t, person("990001198001010019", "张三")))
		if e := next(t, events); e.Kind != idcard.EventCard {
			t.Fatalf("got %v", e.Kind)
		}
		fake.Present(fakeCard(t, person("990001197506150020", "王五")))
		if e := next(t, events); e.Kind != idcard.EventCard || e.Card.IDNumber != "990001197506150020" {
			t.Fatalf("stay %t: got %v", stay, e.Kind)
		}
	}
}

// A reader that cannot be opened is a device fault, and only that, that
// keeps its cause: the installer can tell a missing reader from one hazgate
// may not open.
func TestReaderOpenFaultKeepsItsCause(t *testing.T) {
	denied := &fs.PathError{Op: "open", Path: "/dev/hazgate-idcard-in1", Err: fs.ErrPermission}
	events := run(t, idcard.ReaderConfig{
		Open:       func() (io.ReadWriteCloser, error) { return nil, denied },
		MinBackoff: time.Second,
		Options:    idcard.Options{Clock: clock.NewFake(time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC))},
	})
	e := next(t, events)
	if e.Kind != idcard.EventFault || !errors.Is(e.Err, idcard.ErrUnplugged) || !errors.Is(e.Err, fs.ErrPermission) {
		t.Fatalf("got %v %v; want a fault that is ErrUnplugged and fs.ErrPermission", e.Kind, e.Err)
	}
	if errors.Is(e.Err, idcard.ErrProtocol) || errors.Is(e.Err, idcard.ErrCardFault) {
		t.Fatalf("%v is in more than one class", e.Err)
	}
}
