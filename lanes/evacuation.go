package lanes

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/store"
	"github.com/hazgate/hazgate/uplink"
)

// The gate's evacuation (issue 13 part 5): every exit lane held open,
// every entry lane closed (lane.Evacuation). It is ended only by the
// authority that started it: the office's signed command (Evacuate) or a
// supervisor at the kiosk (EvacuateAtKiosk). With a lock-down on as well,
// the evacuation wins on exit lanes; entry lanes stay closed under either.

// EvacuationStore keeps the gate's evacuation across restarts
// (store.Store).
type EvacuationStore interface {
	SetEvacuation(ctx context.Context, on bool, authority, by string, at time.Time) error
	Evacuation(ctx context.Context) (store.EvacuationState, error)
}

var (
	_ EvacuationStore  = (*store.Store)(nil)
	_ uplink.Evacuator = (*Set)(nil)
)

// ErrEvacuationAuthority is the answer to ending an evacuation that another
// authority started.
var ErrEvacuationAuthority = errors.New("lanes: evacuate: ended only by the authority that started it")

// evacuation is the Set's part for the evacuation; guarded by Set.lockMu
// (switches) and Set.mu (reads).
type evacuation struct {
	keep  EvacuationStore // nil: not kept across restarts
	state store.EvacuationState
}

// KeepEvacuation makes the evacuation's switches be recorded in st (stamped
// with now) before the lanes take them, and RestoreEvacuation read it back.
func (l *Set) KeepEvacuation(st EvacuationStore, now func() time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.evac.keep = st
	if l.now == nil {
		l.now = now
	}
}

// Evacuate carries out the office's signed evacuate (uplink.Evacuator): by
// is who in the office gave it.
func (l *Set) Evacuate(ctx context.Context, on bool, by string) error {
	return l.evacuate(ctx, on, store.EvacuationByOffice, "remote:"+by)
}

// EvacuateAtKiosk starts or ends the evacuation for a supervisor at the
// kiosk (by: the kiosk's actor); the kiosk checks the role and audits.
func (l *Set) EvacuateAtKiosk(ctx context.Context, on bool, by string) error {
	return l.evacuate(ctx, on, store.EvacuationByKiosk, by)
}

// Evacuation returns the gate's evacuation now.
func (l *Set) Evacuation() store.EvacuationState {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.evac.state
}

// evacuate switches the evacuation for authority. Starting one already on
// changes nothing (its authority stays the one that started it); ending
// one that is not on does nothing. Ending one another authority started is
// refused with ErrEvacuationAuthority and the reason in plain words. With
// KeepEvacuation the switch is recorded first: a start that cannot be
// recorded still evacuates (and reports the error: a restart would end
// it); an end that cannot be recorded is not made.
func (l *Set) evacuate(ctx context.Context, on bool, authority, by string) error {
	l.lockSwitch()
	defer l.lockMu.Unlock()
	l.mu.Lock()
	cur, keep, now := l.evac.state, l.evac.keep, l.now
	l.mu.Unlock()
	switch {
	case on && cur.On, !on && !cur.On:
		return nil
	case !on && cur.Authority != authority:
		return fmt.Errorf("%w: %s", ErrEvacuationAuthority, endsWho(cur))
	}
	at := time.Now()
	if now != nil {
		at = now()
	}
	next := store.EvacuationState{By: by, At: at}
	if on {
		next = store.EvacuationState{On: true, Authority: authority, By: by, At: at}
	}
	if keep != nil {
		if err := keep.SetEvacuation(ctx, on, authority, by, at); err != nil {
			if !on {
				return fmt.Errorf("lanes: evacuate: the evacuation was not ended, it could not be recorded: %w", err)
			}
			l.applyEvacuation(next)
			return fmt.Errorf("lanes: evacuate: evacuating, but it could not be recorded (a restart would end it): %w", err)
		}
	}
	l.applyEvacuation(next)
	return nil
}

// endsWho says who may end the evacuation st.
func endsWho(st store.EvacuationState) string {
	if st.Authority == store.EvacuationByKiosk {
		return fmt.Sprintf("the evacuation was started at the kiosk by %s: only a supervisor at the kiosk ends it", st.By)
	}
	return fmt.Sprintf("the evacuation was started by the office's signed command (%s): only a signed evacuate command ends it", st.By)
}

// RestoreEvacuation puts every lane back in the evacuation when the kept
// state says so; call it once the runners are added, with
// RestoreLockdown. A state that cannot be read starts no evacuation (it
// opens barriers) and is reported: the lock-down's own state decides
// whether the lanes are closed.
func (l *Set) RestoreEvacuation(ctx context.Context) (store.EvacuationState, error) {
	l.lockSwitch()
	defer l.lockMu.Unlock()
	l.mu.Lock()
	keep := l.evac.keep
	l.mu.Unlock()
	if keep == nil {
		return store.EvacuationState{}, nil
	}
	st, err := keep.Evacuation(ctx)
	if err != nil {
		return store.EvacuationState{}, fmt.Errorf("lanes: evacuation state unreadable, not restored: %w", err)
	}
	if st.On {
		l.applyEvacuation(st)
	}
	return st, nil
}

func (l *Set) applyEvacuation(st store.EvacuationState) {
	l.mu.Lock()
	l.evac.state = st
	rs := l.runners
	l.mu.Unlock()
	for _, r := range rs {
		r.Send(lane.Evacuation{On: st.On})
	}
}

// evacuationStatus is the evacuation for the status feed; nil when off.
func (l *Set) evacuationStatus() *uplink.EvacuationStatus {
	st := l.Evacuation()
	if !st.On {
		return nil
	}
	return &uplink.EvacuationStatus{On: true, Authority: st.Authority, By: st.By, Since: st.At.Format(time.RFC3339)}
}
