package uplink

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/hazgate/hazgate/uplink/uplinktest"
)

// commanderOnly is a Commander that is not an Evacuator: an older lanes
// set.
type commanderOnly struct{ Commander }

// evacuate takes {"on": bool} like lockdown, for any gate or this one, and
// is carried out by the Commander's Evacuate, with who gave it; a gate
// whose Commander cannot evacuate refuses it.
func TestEvacuateCommand(t *testing.T) {
	now := time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC)
	cmd := func(args string) *Command {
		return &Command{V: 1, Name: CmdEvacuate, Args: json.RawMessage(args), Nonce: "0123456789abcdef",
			IssuedAt: now, ExpiresAt: now.Add(5 * time.Minute), By: "alice"}
	}
	for _, tc := range []struct {
		name, args, reason string
	}{
		{"on", `{"on":true}`, ""},
		{"off", `{"on":false}`, ""},
		{"no arguments", ``, RefuseBadArgs},
		{"no on", `{}`, RefuseBadArgs},
		{"not a bool", `{"on":"yes"}`, RefuseBadArgs},
		{"unknown field", `{"on":true,"lanes":["out-1"]}`, RefuseBadArgs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckCommand(cmd(tc.args), time.Hour)
			var re *RefusedError
			switch {
			case tc.reason == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.reason != "" && (!errors.As(err, &re) || re.Reason != tc.reason):
				t.Fatalf("got %v, want refusal %s", err, tc.reason)
			}
		})
	}

	cmds := &uplinktest.Commander{}
	u := &Uplink{deps: Deps{Commands: cmds}}
	run, err := u.commandFunc(cmd(`{"on":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := cmds.Lines(); len(got) != 1 || got[0] != "evacuate true by alice" {
		t.Fatalf("commander got %v", got)
	}

	u = &Uplink{deps: Deps{Commands: commanderOnly{cmds}}}
	var re *RefusedError
	if _, err := u.commandFunc(cmd(`{"on":true}`)); !errors.As(err, &re) || re.Reason != RefuseNoCommander {
		t.Fatalf("a gate that cannot evacuate: %v", err)
	}
}
