package gate

// The driver-facing devices of a lane: the voice board, which speaks the
// lane's prompts (package prompt), and the outdoor display, the kiosk's
// /display/<lane> page, whose health is whether a screen shows it.

import (
	"errors"
	"io"
	"sync"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/device/voice"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/prompt"
	"github.com/hazgate/hazgate/record"
)

// The driver-facing devices' names and kinds.
const (
	DeviceVoice   = "voice"
	DeviceDisplay = "display"
	KindVoice     = "voice"
	KindDisplay   = "display"
)

// Speaker is a lane's voice board as the lane's prompts use it
// (voice.Board): Say queues a text and never blocks.
type Speaker interface {
	Say(text string)
}

var _ Speaker = (*voice.Board)(nil)

// ErrNoScreen: no screen shows the lane's display page.
var ErrNoScreen = errors.New("gate: no screen shows the lane's display")

// speech is what a lane's voice board was last told.
type speech struct {
	sp    Speaker
	words prompt.Words
	enc   voice.Encoding

	mu    sync.Mutex
	last  string
	noted bool // the prompt's note was said for the vehicle on the lane
}

// startVoice makes the lane's voice board speak the lane's prompts: each
// time the prompt changes, its Chinese words are queued. The lane never
// waits on it.
func (l *Lane) startVoice(sp Speaker) {
	enc := voice.GBK
	if v := l.Config.Voice; v != nil {
		if e, err := voice.ParseEncoding(v.Encoding); err == nil {
			enc = e
		}
	}
	s := &speech{sp: sp, words: l.g.Config.Words(), enc: enc}
	name := l.Config.Name
	l.g.Lanes.Watch(func(snap lane.Snapshot) {
		if snap.Lane == name {
			s.changed(snap)
		}
	})
}

// changed speaks the snapshot's prompt when it differs from the last one,
// then its note (the waybill found from the plate: no scan needed) the
// first time the vehicle has one. An idle lane says nothing, and the next
// vehicle hears every prompt again.
func (s *speech) changed(snap lane.Snapshot) {
	p := prompt.Of(snap)
	text := ""
	if p.Key != prompt.Idle {
		text = s.words.Say(p).ZH
		if _, err := voice.Encode(text, s.enc); err != nil && len(p.Reasons) > 0 {
			// A refusal's reason too long for the board: the prompt with
			// the board's own words for it.
			text = s.words.Say(prompt.Prompt{Key: p.Key}).ZH
		}
	}
	note := ""
	s.mu.Lock()
	same := text == s.last
	s.last = text
	if p.Key == prompt.Idle {
		s.noted = false
	}
	if p.Note != "" && !s.noted {
		s.noted = true
		note = s.words.Note(p).ZH
	}
	s.mu.Unlock()
	if !same && text != "" {
		s.sp.Say(text)
	}
	if _, err := voice.Encode(note, s.enc); note != "" && err == nil {
		s.sp.Say(note)
	}
}

// NewVoiceBoard is the lane's voice board on the port open opens, with the
// lane's voice settings; run it with Run(ctx, l.Voice).
func (l *Lane) NewVoiceBoard(open func() (io.ReadWriteCloser, error), clk clock.Clock) *voice.Board {
	cfg := voice.Config{Open: open, Clock: clk, Log: l.log.With("device", DeviceVoice)}
	if v := l.Config.Voice; v != nil {
		cfg.ReplyTimeout = v.Timeout.D()
		if e, err := voice.ParseEncoding(v.Encoding); err == nil {
			cfg.Encoding = e
		}
	}
	return voice.New(cfg)
}

// Voice delivers what the voice board reported: its health. A prompt it
// could not speak is logged; nothing of it reaches the lane, which never
// waits on the board.
func (l *Lane) Voice(ev voice.Event) {
	switch ev.Kind {
	case voice.EventSaid:
		l.log.Debug("voice prompt spoken", "device", DeviceVoice, "text", ev.Text)
		l.Health(DeviceVoice, KindVoice, nil)
	case voice.EventDropped:
		l.log.Warn("voice prompt not spoken", "device", DeviceVoice, "text", ev.Text, "err", ev.Err)
	case voice.EventFault:
		l.Health(DeviceVoice, KindVoice, ev.Err)
	case voice.EventRecovered:
		l.Health(DeviceVoice, KindVoice, nil)
	}
}

// DisplayScreens delivers how many screens show the lane's display page
// (the kiosk counts them): none is the display's fault, once it has lasted
// the fault window. A lane without a display in its configuration has no
// display device.
func (l *Lane) DisplayScreens(n int) {
	if l.Config.Display == nil {
		return
	}
	if n > 0 {
		l.Health(DeviceDisplay, KindDisplay, nil)
		return
	}
	l.Health(DeviceDisplay, KindDisplay, ErrNoScreen)
}

// driverFacingFault is the reason code and text of a voice board's or a
// display's fault ("" when err is neither's).
func driverFacingFault(what record.Text, name string, err error) (string, record.Text) {
	switch {
	case errors.Is(err, voice.ErrNotResponding):
		return FaultNotResponding, record.Text{ZH: what.ZH + " " + name + " 无应答", EN: what.EN + " " + name + " does not answer"}
	case errors.Is(err, voice.ErrUnplugged):
		return FaultUnplugged, record.Text{ZH: what.ZH + " " + name + " 未连接或无法打开", EN: what.EN + " " + name + " is unplugged or cannot be opened"}
	case errors.Is(err, ErrNoScreen):
		return FaultUnplugged, record.Text{ZH: what.ZH + " " + name + " 无屏幕连接", EN: what.EN + " " + name + " is shown on no screen"}
	}
	return "", record.Text{}
}
