package logs

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Line is one log line kept in the ring.
type Line struct {
	Time  time.Time `json:"time"`
	Level string    `json:"level"` // DEBUG, INFO, WARN, ERROR
	Text  string    `json:"text"`  // the message and attributes, as the text handler writes them
}

// Ring keeps the last lines logged, for the kiosk's health page. It is a
// slog.Handler (Tee it beside the real one); Lines reads it.
type Ring struct {
	mu    sync.Mutex
	lines []Line // a circular buffer of cap size
	next  int    // where the next line goes once full
	size  int
	level slog.Leveler
	cur   Line // the record being written (under mu)
	base  *ringHandler
}

// NewRing keeps the last size lines at level or above (nil: info).
func NewRing(size int, level slog.Leveler) *Ring {
	if level == nil {
		level = slog.LevelInfo
	}
	r := &Ring{size: size, level: level, lines: make([]Line, 0, size)}
	r.base = r.handler()
	return r
}

// Lines returns the kept lines, oldest first.
func (r *Ring) Lines() []Line {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Line, 0, len(r.lines))
	out = append(out, r.lines[r.next:]...)
	return append(out, r.lines[:r.next]...)
}

func (r *Ring) add(l Line) {
	if len(r.lines) < r.size {
		r.lines = append(r.lines, l)
		return
	}
	r.lines[r.next] = l
	r.next = (r.next + 1) % r.size
}

// Write takes one record's text from the ring's text handler.
func (r *Ring) Write(p []byte) (int, error) {
	l := r.cur
	l.Text = strings.TrimSuffix(string(p), "\n")
	r.add(l)
	return len(p), nil
}

// handler is the ring's slog.Handler: a text handler (without time and
// level, kept apart) writing into the ring.
type ringHandler struct {
	r    *Ring
	text slog.Handler
}

func (r *Ring) handler() *ringHandler {
	return &ringHandler{r: r, text: slog.NewTextHandler(r, &slog.HandlerOptions{
		Level: r.level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey) {
				return slog.Attr{}
			}
			return a
		},
	})}
}

// Enabled, Handle, WithAttrs and WithGroup make the ring a slog.Handler.
func (r *Ring) Enabled(ctx context.Context, l slog.Level) bool { return l >= r.level.Level() }

func (r *Ring) Handle(ctx context.Context, rec slog.Record) error {
	return r.base.Handle(ctx, rec)
}

func (r *Ring) WithAttrs(as []slog.Attr) slog.Handler { return r.base.WithAttrs(as) }
func (r *Ring) WithGroup(name string) slog.Handler    { return r.base.WithGroup(name) }

func (h *ringHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.r.Enabled(ctx, l) }

func (h *ringHandler) Handle(ctx context.Context, rec slog.Record) error {
	h.r.mu.Lock()
	defer h.r.mu.Unlock()
	h.r.cur = Line{Time: rec.Time, Level: rec.Level.String()}
	return h.text.Handle(ctx, rec)
}

func (h *ringHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &ringHandler{r: h.r, text: h.text.WithAttrs(as)}
}

func (h *ringHandler) WithGroup(name string) slog.Handler {
	return &ringHandler{r: h.r, text: h.text.WithGroup(name)}
}
