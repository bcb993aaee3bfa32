package sim

// The simulated lanes' driver-facing devices: a voice board on a pty
// (simvoice) spoken to by the real driver (device/voice) through the
// gate's prompts, and what the lane's display shows, taken from the same
// snapshots as the kiosk's /display/<lane> page.

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/device/serialport"
	"github.com/hazgate/hazgate/device/voice"
	"github.com/hazgate/hazgate/gate"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/prompt"
	"github.com/hazgate/hazgate/sim/simvoice"
)

// voiceBaud is the simulated boards' baud rate (the boards' default).
const voiceBaud = 9600

// voiceBoard is one lane's simulated voice board and the driver speaking
// to it.
type voiceBoard struct {
	e      *Engine
	l      *simLane
	name   string
	sim    *simvoice.Board
	driver *voice.Board

	// Guarded by e.dev.
	driverHealth // unplugged: down
}

// LaneTalk is what a lane told its drivers: the voice board's transcript
// and the display's prompts, each in order, a prompt once until it
// changes.
type LaneTalk struct {
	Said      []string `json:"said"`
	Displayed []string `json:"displayed"`
}

func (e *Engine) wireVoice(l *simLane) error {
	path := filepath.Join(e.devDir, "hazgate-voice-"+l.name)
	sb, err := simvoice.New(path)
	if err != nil {
		return fmt.Errorf("sim: lane %s: %w", l.name, err)
	}
	e.cleanup = append(e.cleanup, func() { sb.Close() })
	v := &voiceBoard{e: e, l: l, name: l.gl.DeviceName(gate.DeviceVoice), sim: sb}
	// The driver runs on real time, as the pty does; it keeps every prompt
	// (MaxAge, QueueMax), so that the transcript does not depend on the
	// machine's speed.
	v.driver = voice.New(voice.Config{
		Open:  func() (io.ReadWriteCloser, error) { return serialport.Open(path, voiceBaud) },
		Clock: clock.Real{}, Log: e.log.With("device", v.name),
		ReplyTimeout: readerTimeout, Poll: 2 * time.Millisecond,
		MaxAge: time.Hour, QueueMax: 1024,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
	})
	l.gl.Health(gate.DeviceVoice, gate.KindVoice, nil)
	l.voice = v
	return nil
}

// event handles what the driver reports: the lane's adapter first, then
// the loop learns of it.
func (v *voiceBoard) event(ev voice.Event) {
	e := v.e
	if e.closing.Load() {
		return
	}
	v.l.gl.Voice(ev)
	e.dev.Lock()
	switch ev.Kind {
	case voice.EventFault:
		v.faulted = true
	case voice.EventRecovered:
		v.faulted = false
	}
	e.changedLocked()
	e.dev.Unlock()
	switch ev.Kind {
	case voice.EventFault, voice.EventRecovered:
		note := "recovered"
		if ev.Err != nil {
			note = "fault: " + plainReason(ev.Err)
		}
		e.deviceNote(v.l.name, v.name, note)
	}
}

// busyLocked says what the board still owes: the fault or recovery it
// must report, or the prompts it has not taken while it works.
func (v *voiceBoard) busyLocked() string {
	if why := v.driverHealth.busyLocked(); why != "" {
		return why
	}
	if n := v.driver.Pending(); n > 0 && !v.down && !v.faulted {
		return fmt.Sprintf("waiting for the board to take %d prompt(s)", n)
	}
	return ""
}

// inject unplugs the board (on) or plugs it back. A device step.
func (v *voiceBoard) inject(kind string, on bool) error {
	if kind != "unplug" {
		return fmt.Errorf("sim: %s: unknown fault %q (unplug)", v.name, kind)
	}
	var err error
	if on {
		err = v.sim.Unplug()
	} else {
		err = v.sim.Plug()
	}
	v.e.dev.Lock()
	v.down = on
	v.e.changedLocked()
	v.e.dev.Unlock()
	return err
}

// displayed notes the prompt the lane's display shows for snap, when it
// changed.
func (l *simLane) displayed(snap lane.Snapshot) {
	t := l.sim.words.Say(prompt.Of(snap))
	line := t.ZH + " / " + t.EN
	if snap.Evidence.Plate != "" && snap.Phase != lane.PhaseIdle {
		line += " [" + snap.Evidence.Plate + "]"
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.shown); n == 0 || l.shown[n-1] != line {
		l.shown = append(l.shown, line)
	}
}

// talk is what each lane said and displayed.
func (e *Engine) talk() map[string]LaneTalk {
	out := map[string]LaneTalk{}
	for _, name := range e.sc.Lanes() {
		l := e.lanes[name]
		t := LaneTalk{Said: []string{}, Displayed: []string{}}
		if l.voice != nil {
			t.Said = append(t.Said, l.voice.sim.Said()...)
		}
		l.mu.Lock()
		t.Displayed = append(t.Displayed, slices.Clone(l.shown)...)
		l.mu.Unlock()
		out[name] = t
	}
	return out
}
