package uplink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hazgate/hazgate/store"
)

// Replay for the platform (docs/uplink.md "Replay"): events are kept in the
// outbox for ReplayKeep after their PUBACK, so that a platform that lost
// data after its broker acknowledged it can ask for it again with a signed
// cmd/replay {"from_seq", "to_seq"}. The events are published again on
// their own topics, as they were, with "replay": true.

// CmdReplay is the platform's request to publish events again.
const CmdReplay = "replay"

// ReplayArgs are the arguments of cmd/replay: the events from FromSeq to
// ToSeq (inclusive; 0: to the last one sent).
type ReplayArgs struct {
	FromSeq int64 `json:"from_seq"`
	ToSeq   int64 `json:"to_seq,omitempty"`
}

// DefaultReplayKeep is how long delivered events are kept for a replay.
const DefaultReplayKeep = 7 * 24 * time.Hour

// replayMax bounds one replay: a larger range is asked for in parts.
const replayMax = 10000

func replayArgs(a *ReplayArgs) error {
	switch {
	case a.FromSeq < 1:
		return refuse(RefuseBadArgs, "replay needs from_seq, the first event's seq (1 or more)")
	case a.ToSeq != 0 && a.ToSeq < a.FromSeq:
		return refuse(RefuseBadArgs, "replay: to_seq %d is before from_seq %d", a.ToSeq, a.FromSeq)
	case a.ToSeq != 0 && a.ToSeq-a.FromSeq >= replayMax:
		return refuse(RefuseBadArgs, "replay: at most %d events at a time; ask for the rest in another replay", replayMax)
	}
	return nil
}

// replay publishes the kept events of the range again, each acknowledged
// before the next, on the connection of the moment. What is no longer
// kept, or not sent yet (the drain sends it in its turn), is said in the
// error, after the rest was replayed.
func (u *Uplink) replay(ctx context.Context, a *ReplayArgs) error {
	to := a.ToSeq
	if to == 0 {
		to = a.FromSeq + replayMax - 1
	}
	rows, err := u.st.SentEvents(ctx, a.FromSeq, to, replayMax)
	if err != nil {
		return err
	}
	u.mu.Lock()
	s := u.current
	u.mu.Unlock()
	if s == nil {
		return errors.New("not connected to the broker: ask again once the gate is online")
	}
	for i := range rows {
		r := &rows[i]
		payload := markReplay(stamp(r.Payload, r.EventSeq, 0, time.Duration(1<<62)))
		if err := s.wait(ctx, s.cli.Publish(u.topic(r.Topic), 1, false, payload)); err != nil {
			return fmt.Errorf("the connection was lost after %d of %d events replayed: %v", i, len(rows), err)
		}
	}
	u.log.Info("events replayed", "from_seq", a.FromSeq, "to_seq", a.ToSeq, "n", len(rows))
	if a.ToSeq != 0 && int64(len(rows)) < a.ToSeq-a.FromSeq+1 {
		missing := missingSeqs(rows, a.FromSeq, a.ToSeq)
		return fmt.Errorf("%d of the events %d-%d replayed; not kept or not sent yet: %s (events are kept %v after delivery, mqtt.replay_keep)",
			len(rows), a.FromSeq, a.ToSeq, missing, u.cfg.ReplayKeep)
	}
	return nil
}

// markReplay adds "replay": true to a JSON object payload.
func markReplay(p []byte) []byte {
	p = bytes.TrimSpace(p)
	if len(p) < 2 || p[len(p)-1] != '}' {
		return p
	}
	out := append([]byte(nil), p[:len(p)-1]...)
	if len(bytes.TrimSpace(out)) > 1 {
		out = append(out, ',')
	}
	return append(out, `"replay":true}`...)
}

// missingSeqs names the seqs of from..to that rows lacks, as ranges.
func missingSeqs(rows []store.OutboxRow, from, to int64) string {
	have := map[int64]bool{}
	for _, r := range rows {
		have[r.EventSeq] = true
	}
	var out []byte
	for s := from; s <= to; s++ {
		if have[s] {
			continue
		}
		e := s
		for e+1 <= to && !have[e+1] {
			e++
		}
		if len(out) > 0 {
			out = append(out, ", "...)
		}
		if e == s {
			out = fmt.Appendf(out, "%d", s)
		} else {
			out = fmt.Appendf(out, "%d-%d", s, e)
		}
		s = e
	}
	return string(out)
}

// pruneLoop deletes the events delivered more than ReplayKeep ago, hourly
// (the first time at once), until ctx ends.
func (u *Uplink) pruneLoop(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := u.st.PruneOutbox(ctx, u.clk.Now().Add(-u.cfg.ReplayKeep)); err != nil && ctx.Err() == nil {
			u.log.Warn("delivered events not pruned; next try in an hour", "err", err)
		} else if n > 0 {
			u.log.Info("delivered events pruned past replay_keep", "n", n, "replay_keep", u.cfg.ReplayKeep)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
