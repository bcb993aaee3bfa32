package record

import (
	"context"
	"testing"
	"time"
)

// An alarm that can end is raised once with its id and cleared with it;
// raising it again while it is on sends nothing.
func TestConditionAlarm(t *testing.T) {
	g, _, now := newGate(t)
	ctx := context.Background()
	c := Condition{Key: AlarmRegistryStale, Kind: AlarmRegistryStale, Code: "registry_empty", Text: Text{ZH: "无名录", EN: "No registry"}}
	id, raised, err := g.Raise(ctx, c, now)
	if err != nil || !raised {
		t.Fatal(raised, err)
	}
	if again, raised, _ := g.Raise(ctx, c, now.Add(time.Minute)); raised || again != id {
		t.Fatalf("raised again: %v %s", raised, again)
	}
	if ok, err := g.Clear(ctx, c.Key, Text{ZH: "已同步", EN: "Synced"}, now.Add(2*time.Minute)); !ok || err != nil {
		t.Fatal(ok, err)
	}
	msgs := pending(t, g)
	if len(msgs) != 2 || msgs[0]["state"] != StateRaised || msgs[0]["alarm_id"] != id || msgs[0]["id"] != id ||
		msgs[1]["state"] != StateCleared || msgs[1]["alarm_id"] != id || msgs[1]["code"] != "registry_empty" || msgs[1]["detail"] != "Synced" {
		t.Fatalf("messages %v", msgs)
	}
}
