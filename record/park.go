package record

import (
	"context"
	"fmt"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/store"
)

// Who is inside the park (docs/design.md, "Who is inside the park"): every
// gate hears its siblings' passages (the uplink keeps them in the store),
// so an exit here is linked to an entry at another gate, an entry by a
// vehicle already inside raises double_entry, and the gate a vehicle came
// in through raises overstay when it stays longer than the park allows.

// Alarm kinds of the park's presence.
const (
	AlarmDoubleEntry = "double_entry" // an entry by a vehicle already inside (anti-passback)
	AlarmOverstay    = "overstay"     // a vehicle inside longer than park.max_stay; cleared on exit
)

// DefaultMaxStay is park.max_stay when the configuration says nothing.
const DefaultMaxStay = 6 * time.Hour

// entryOf finds the entry of a vehicle leaving at at: its latest passage
// in the park, at this gate or a sibling, when that is an entry with an
// inspection; when its latest entry had none (a forced barrier), the last
// entry here that had one, with no exit after it.
func (g *Keeper) entryOf(ctx context.Context, plate string, at time.Time) (exit, error) {
	x := exit{plate: plate}
	p, inside, err := g.Store.ParkPresent(ctx, plate)
	switch {
	case err != nil:
		return x, err
	case inside && p.InspectionID != "":
		x.entryID, x.stay, x.known, x.remote = p.InspectionID, at.Sub(p.Since), true, p.Gate != g.Name
	case inside:
		id, in, ok, err := g.Store.LastEntry(ctx, plate)
		if err != nil {
			return x, err
		}
		if ok {
			x.entryID, x.stay, x.known = id, at.Sub(in), true
		}
	}
	return x, nil
}

// checkDoubleEntry raises double_entry when a vehicle coming in is already
// inside by the park's records. The vehicle passed its checks: it is let
// in, and the safety office is told (its last exit may have been missed,
// or two vehicles carry one plate).
func (g *Keeper) checkDoubleEntry(ctx context.Context, laneName, plate string, at time.Time) {
	if plate == "" {
		return
	}
	p, ok, err := g.Store.ParkPresent(ctx, plate)
	if err != nil {
		g.Log.Error("park presence unknown: double entry not checked", "plate", plate, "err", err)
		return
	}
	if !ok {
		return
	}
	since := p.Since.In(g.Params.Location).Format("2006-01-02 15:04")
	t := Text{
		ZH: fmt.Sprintf("重复入场：%s 已于 %s 经 %s %s 入园，尚无出园记录", p.Plate, since, p.Gate, p.Lane),
		EN: fmt.Sprintf("Double entry: %s entered through %s %s at %s and has not been seen leaving", p.Plate, p.Gate, p.Lane, since),
	}
	msg := g.alarmMessage(laneName, AlarmEvent{Kind: AlarmDoubleEntry, Code: AlarmDoubleEntry, Text: &t}, at)
	if err := g.recorded(g.Store.RecordAlarm(ctx, store.Alarm{ID: msg.ID, Gate: g.Name, Lane: laneName, Kind: AlarmDoubleEntry, Detail: t.EN, At: at}, msg)); err != nil {
		g.Log.Error("double entry alarm not recorded", "plate", plate, "err", err)
		return
	}
	if g.OnAlarm != nil {
		g.OnAlarm(laneName, AlarmDoubleEntry)
	}
}

// overstayKey names the overstay condition of a plate.
func overstayKey(plate string) string { return AlarmOverstay + "/" + registry.NormalizePlate(plate) }

// leftText is why an overstay ends.
var leftText = Text{ZH: "车辆已出园，超时滞留告警解除", EN: "The vehicle has left the park: overstay ended"}

// clearOverstay ends the overstay of a vehicle that left through this gate.
func (g *Keeper) clearOverstay(ctx context.Context, plate string, at time.Time) {
	if _, err := g.Clear(ctx, overstayKey(plate), leftText, at); err != nil {
		g.Log.Error("overstay not cleared; the next check clears it", "plate", plate, "err", err)
	}
}

// WatchPark raises overstay for every vehicle that came in through this
// gate and is inside longer than maxStay, and clears it when the vehicle
// has left (through any gate): every interval, and when wake says a
// sibling's passage came in, until ctx ends.
func (g *Keeper) WatchPark(ctx context.Context, clk clock.Clock, maxStay, interval time.Duration, wake <-chan struct{}) {
	for {
		if err := g.CheckOverstays(ctx, clk.Now(), maxStay); err != nil && ctx.Err() == nil {
			g.Log.Error("overstays not checked", "err", err)
		}
		tick := make(chan struct{})
		t := clk.AfterFunc(interval, func() { close(tick) })
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-tick:
		case <-wake:
			t.Stop()
		}
	}
}

// CheckOverstays raises and clears the overstay alarms as of now.
func (g *Keeper) CheckOverstays(ctx context.Context, now time.Time, maxStay time.Duration) error {
	inside, err := g.Store.ParkInside(ctx)
	if err != nil {
		return err
	}
	over := map[string]bool{}
	for _, p := range inside {
		if p.Gate != g.Name || now.Sub(p.Since) <= maxStay {
			continue
		}
		key := overstayKey(p.Plate)
		over[key] = true
		since := p.Since.In(g.Params.Location).Format("2006-01-02 15:04")
		hours := now.Sub(p.Since).Hours()
		_, _, err := g.Raise(ctx, Condition{Key: key, Lane: p.Lane, Kind: AlarmOverstay, Code: AlarmOverstay, Text: Text{
			ZH: fmt.Sprintf("超时滞留：%s 于 %s 入园，已停留 %.1f 小时，超过园区规定的 %.1f 小时", p.Plate, since, hours, maxStay.Hours()),
			EN: fmt.Sprintf("Overstay: %s entered at %s and has been inside %.1f h, longer than the park's %.1f h", p.Plate, since, hours, maxStay.Hours()),
		}}, now)
		if err != nil {
			return err
		}
	}
	active, err := g.Store.ActiveAlarms(ctx)
	if err != nil {
		return err
	}
	for _, a := range active {
		if a.Kind != AlarmOverstay || over[a.Key] {
			continue
		}
		if _, err := g.Clear(ctx, a.Key, leftText, now); err != nil {
			return err
		}
	}
	return nil
}
