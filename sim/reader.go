package sim

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/device/idcard"
	"github.com/hazgate/hazgate/device/serialport"
	"github.com/hazgate/hazgate/gate"
	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/sim/simreader"
)

// cardReader is one simulated GA 467 reader and the real driver reading it.
type cardReader struct {
	e      *Engine
	l      *simLane
	device string        // "idcard"
	name   string        // "in-1/idcard"
	role   registry.Role // the role of every card read on it
	sim    *simreader.Reader
	driver *idcard.Reader

	// Guarded by e.dev.
	driverHealth               // unplugged or silent: down
	want         *presentation // the card someone holds to it, not read yet
	placed       bool          // want is in the reader's field
	finds        int           // "find card" commands answered
	lastID       string        // the card last read (or that failed to read)
	lastFind     int           // finds when it was
}

// presentation is a card held to a reader until it is read.
type presentation struct {
	id    string
	card  idcard.Card
	tries int
}

func (e *Engine) wireReader(l *simLane, role registry.Role) error {
	dev := gate.DeviceIDCard
	if role == registry.RoleEscort {
		dev = gate.DeviceEscortIDCard
	}
	path := filepath.Join(e.devDir, "hazgate-"+strings.ReplaceAll(dev, "_", "-")+"-"+l.name)
	sr, err := simreader.New(path)
	if err != nil {
		return fmt.Errorf("sim: lane %s: %w", l.name, err)
	}
	e.cleanup = append(e.cleanup, func() { sr.Close() })
	r := &cardReader{e: e, l: l, device: dev, name: l.gl.DeviceName(dev), role: role, sim: sr}
	l.gl.Health(dev, gate.KindIDCard, nil)
	sr.Fake().OnFind(r.found)
	r.driver = idcard.NewReader(idcard.ReaderConfig{
		Open: func() (io.ReadWriteCloser, error) {
			p, err := serialport.Open(path, readerBaud)
			if err != nil {
				return nil, err
			}
			return p, nil
		},
		Options:     idcard.Options{Clock: clock.Real{}, Timeout: readerTimeout, Baud: readerBaud, Log: e.log.With("device", r.name)},
		Poll:        readerPoll,
		MinBackoff:  20 * time.Millisecond,
		MaxBackoff:  200 * time.Millisecond,
		AbsentPolls: absentPolls,
	})
	l.readers = append(l.readers, r)
	return nil
}

// found counts the reader's answers to "find card".
func (r *cardReader) found() {
	r.e.dev.Lock()
	r.finds++
	r.e.changedLocked()
	r.e.dev.Unlock()
}

// present has p hold their card to the reader until it is read (or the
// vehicle leaves). A device step.
func (r *cardReader) present(p *Presenter) {
	card := r.e.cardFor(p)
	r.e.dev.Lock()
	defer r.e.dev.Unlock()
	if r.placed {
		r.sim.Remove()
	}
	r.want, r.placed = &presentation{id: strings.ToUpper(p.IDNumber), card: card}, false
	r.e.changedLocked()
}

// takeAway removes any card still held to the reader. A device step.
func (r *cardReader) takeAway() {
	r.e.dev.Lock()
	defer r.e.dev.Unlock()
	if r.placed {
		r.sim.Remove()
	}
	r.want, r.placed = nil, false
}

// pumpLocked puts the held card in the field once the driver will take it
// as a new presentation: after a card was read, the driver must see the
// field empty before the same card counts again.
func (r *cardReader) pumpLocked() {
	if r.want == nil || r.placed {
		return
	}
	if !r.down && !r.faulted && r.lastID == r.want.id && r.finds-r.lastFind <= absentPolls {
		return
	}
	if err := r.sim.Present(r.want.card); err != nil {
		r.e.deviceNote(r.l.name, r.name, fmt.Sprintf("cannot make card %s: %v", r.want.id, err))
		r.want = nil
		return
	}
	r.placed = true
}

func (r *cardReader) busyLocked() string {
	if why := r.driverHealth.busyLocked(); why != "" {
		return why
	}
	switch {
	case r.want != nil && !r.placed:
		return "waiting for the driver to see the field empty"
	case r.placed && !r.down:
		return "waiting for the driver to read the card"
	}
	return ""
}

// event handles what the driver reports, from its goroutine: the lane gets
// it first, then the loop learns that it was delivered.
func (r *cardReader) event(ev idcard.Event) {
	e, l := r.e, r.l
	if e.closing.Load() {
		return
	}
	switch ev.Kind {
	case idcard.EventCard:
		c := ev.Card
		l.gl.Card(r.device, r.role, ev)
		r.sim.Remove() // the person takes the card back
		e.dev.Lock()
		r.want, r.placed = nil, false
		r.lastID, r.lastFind = strings.ToUpper(c.IDNumber), r.finds
		e.changedLocked()
		e.dev.Unlock()
	case idcard.EventCardError:
		r.sim.Remove() // taken away, to be presented again
		e.dev.Lock()
		r.placed = false
		r.lastFind = r.finds
		if w := r.want; w != nil {
			r.lastID = w.id
			if w.tries++; w.tries >= maxCardTries {
				r.want = nil
			}
		}
		e.changedLocked()
		e.dev.Unlock()
		e.rejected(l, l.current(), r.name, rejectedCard, ev.Err)
	case idcard.EventFault:
		e.deviceHealth(l, r.device, gate.KindIDCard, ev.Err, func() { r.faulted = true })
	case idcard.EventRecovered:
		e.deviceHealth(l, r.device, gate.KindIDCard, nil, func() { r.faulted = false })
	}
}

// inject starts (on) or ends (off) a fault of kind. A device step.
func (r *cardReader) inject(kind string, on bool) error {
	e := r.e
	var err error
	switch kind {
	case "unplug":
		if on {
			err = r.sim.Unplug()
		} else {
			err = r.sim.Plug()
		}
	case "silence":
		r.sim.Silence(on)
	case "noise":
		r.sim.Noise(on)
		return nil
	default:
		return fmt.Errorf("sim: %s: unknown fault %q", r.name, kind)
	}
	e.dev.Lock()
	r.down = on
	e.changedLocked()
	e.dev.Unlock()
	return err
}

// cardFor is the card a presenter holds: the registry's person with the
// arrival's overrides. A card with no valid-from date in the registry was
// issued ten (or twenty) years before it expires, or a year before the
// scenario for a long-term card.
func (e *Engine) cardFor(p *Presenter) idcard.Card {
	ev := e.card(p)
	if ev.CardValidFrom.IsZero() {
		ev.CardValidFrom = e.issued(ev.CardValidUntil)
	}
	return simreader.CardFor(ev, e.persons[p.IDNumber])
}

func (e *Engine) issued(until registry.Validity) registry.Validity {
	now := e.start.In(e.loc)
	if !until.IsZero() {
		u := until.Start(e.loc)
		for _, years := range []int{10, 20} {
			from := registry.Date(u.Year()-years, u.Month(), u.Day())
			if !from.Start(e.loc).After(now) {
				return from
			}
		}
	} else if from := registry.Date(2016, 1, 1); !from.Start(e.loc).After(now) {
		return from
	}
	return registry.Date(now.Year()-1, now.Month(), now.Day())
}

func errText(err error) string {
	if err == nil || err.Error() == "" {
		return "fault"
	}
	return err.Error()
}
