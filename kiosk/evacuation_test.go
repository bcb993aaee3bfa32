package kiosk

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/store"
	"github.com/hazgate/hazgate/uplink"
)

// evacHarness is a gate with an entry and an exit lane, an operator and a
// supervisor.
func evacHarness(t *testing.T) *harness {
	h := newHarness(t, Config{}, "in-1", "out-1")
	h.addOperator("op", RoleOperator, opPassword)
	h.addOperator("sup", RoleSupervisor, supPassword)
	return h
}

// evacuating checks that the exit lane is held open and the entry lane
// closed (want), or that neither evacuates, once both took every event.
func (h *harness) evacuating(want bool) {
	h.t.Helper()
	h.send("in-1")
	h.send("out-1")
	out, in := h.runner("out-1").Snapshot(), h.runner("in-1").Snapshot()
	if out.Evacuation != want || in.Evacuation != want {
		h.t.Fatalf("evacuation: exit %t, entry %t, want %t", out.Evacuation, in.Evacuation, want)
	}
	if want && (out.Phase != lane.PhaseEvacuating || out.BarrierCommanded != lane.CommandUp) {
		h.t.Fatalf("exit lane %s, barrier %s: want it held open", out.Phase, out.BarrierCommanded)
	}
	if !want && out.BarrierCommanded == lane.CommandUp {
		h.t.Fatal("the exit barrier is still up")
	}
	if in.BarrierCommanded == lane.CommandUp {
		h.t.Fatal("the entry barrier is up")
	}
}

// A supervisor starts and ends the evacuation at the kiosk, with a reason,
// audited; an operator may not; the lanes page says who may end it.
func TestEvacuationAtTheKiosk(t *testing.T) {
	h := evacHarness(t)
	op := h.client().mustLogin("op", opPassword)
	sup := h.client().mustLogin("sup", supPassword)
	if a := op.do("POST", "/api/v1/evacuation", map[string]any{"on": true, "reason": "演练"}); a.status != http.StatusForbidden {
		t.Fatalf("operator evacuation = %d %s", a.status, a.body)
	}
	if a := sup.do("POST", "/api/v1/evacuation", map[string]any{"on": true, "reason": " "}); a.status != http.StatusUnprocessableEntity {
		t.Fatalf("evacuation without a reason = %d %s", a.status, a.body)
	}
	if a := sup.do("POST", "/api/v1/evacuation", map[string]any{"reason": "演练"}); a.status != http.StatusUnprocessableEntity {
		t.Fatalf("evacuation without on = %d %s", a.status, a.body)
	}
	h.evacuating(false)
	if a := sup.do("POST", "/api/v1/evacuation", map[string]any{"on": true, "reason": "储罐区泄漏"}); a.status != http.StatusAccepted {
		t.Fatalf("evacuation = %d %s", a.status, a.body)
	}
	h.evacuating(true)
	var answer struct {
		Lanes []laneView `json:"lanes"`
	}
	if err := json.Unmarshal(op.do("GET", "/api/v1/lanes", nil).body, &answer); err != nil {
		t.Fatal(err)
	}
	for _, v := range answer.Lanes {
		if !v.Evacuation || v.EvacuationBy != store.EvacuationByKiosk {
			t.Fatalf("lane %s: evacuation %t by %q", v.Lane, v.Evacuation, v.EvacuationBy)
		}
	}
	if st, err := h.st.Evacuation(context.Background()); err != nil || !st.On || st.Authority != store.EvacuationByKiosk || st.By != "operator:sup" {
		t.Fatalf("kept evacuation %+v, %v", st, err)
	}
	// A vehicle held at the entry lane is not released while it lasts.
	h.arrive("in-1", reviewVehicle)
	id := h.runner("in-1").Snapshot().InspectionID
	if a := op.do("POST", "/api/v1/lanes/in-1/release", map[string]string{"inspection_id": id, "reason": "证件已核实"}); a.status != http.StatusConflict ||
		!strings.Contains(string(a.body), "evacuating") {
		t.Fatalf("release during the evacuation = %d %s", a.status, a.body)
	}
	if a := op.do("POST", "/api/v1/evacuation", map[string]any{"on": false, "reason": "结束"}); a.status != http.StatusForbidden {
		t.Fatalf("operator ending it = %d %s", a.status, a.body)
	}
	h.evacuating(true)
	if a := sup.do("POST", "/api/v1/evacuation", map[string]any{"on": false, "reason": "险情排除"}); a.status != http.StatusAccepted {
		t.Fatalf("end = %d %s", a.status, a.body)
	}
	h.evacuating(false)
	if got, want := h.auditActions("gate"), []string{"kiosk.evacuation", "kiosk.evacuation_ended"}; !slices.Equal(got, want) {
		t.Fatalf("audit %v, want %v", got, want)
	}
}

// The office's signed evacuate, on a real Mosquitto, holds the exit lane
// open and the entry lane closed; an unsigned one is refused; the kiosk
// cannot end it (409, in words); only a signed evacuate does. And an
// evacuation the kiosk started is not the office's to end: command_failed.
func TestEvacuationOnMosquitto(t *testing.T) {
	url := startMosquitto(t)
	h := evacHarness(t)
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	u, err := uplink.New(uplink.Config{Broker: url, Park: "test-park", Gate: "test-gate", TelemetryInterval: -1,
		TrustedKeys: []string{uplink.PublicKeyString(pub)}, NonceFile: filepath.Join(t.TempDir(), "nonces")}, h.st,
		uplink.Deps{Clock: h.gateClk, Alarms: h.gate.Keeper, Commands: h.gate.Lanes})
	if err != nil {
		t.Fatal(err)
	}
	h.gate.Keeper.OnRecord = u.Kick
	done := make(chan struct{})
	go func() { defer close(done); u.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	changed := make(chan struct{}, 1)
	h.gate.Lanes.Watch(func(lane.Snapshot) {
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	alarms := make(chan map[string]any, 100)
	office := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("safety-office").SetAutoReconnect(false))
	if tok := office.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("safety office client: %v", tok.Error())
	}
	t.Cleanup(func() { office.Disconnect(100) })
	sub := office.Subscribe("hazgate/test-park/test-gate/events/alarm", 1, func(_ paho.Client, m paho.Message) {
		var b map[string]any
		if json.Unmarshal(m.Payload(), &b) == nil {
			alarms <- b
		}
	})
	if !sub.WaitTimeout(10*time.Second) || sub.Error() != nil {
		t.Fatalf("subscribe: %v", sub.Error())
	}
	waitUntil := func(what string, ok func() bool) {
		t.Helper()
		timeout := time.After(20 * time.Second)
		for !ok() {
			select {
			case <-changed:
			case <-timeout:
				t.Fatalf("%s: not within 20 s", what)
			}
		}
	}
	waitAlarm := func(kind, detail string) {
		t.Helper()
		timeout := time.After(20 * time.Second)
		for {
			select {
			case a := <-alarms:
				if a["kind"] == kind && strings.Contains(a["detail"].(string), detail) {
					return
				}
			case <-timeout:
				t.Fatalf("no %s alarm saying %q within 20 s", kind, detail)
			}
		}
	}
	// The uplink subscribes to its commands once connected: until then a
	// command published is lost. Wait for that.
	waitSubscribed := time.After(20 * time.Second)
	for !u.Connection().Subscribed {
		select {
		case <-waitSubscribed:
			t.Fatal("the uplink did not subscribe within 20 s")
		case <-time.After(20 * time.Millisecond):
		}
	}
	publish := func(name string, payload []byte) {
		t.Helper()
		if tok := office.Publish("hazgate/test-park/test-gate/cmd/"+name, 1, false, payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
	}
	evacuate := func(on bool) []byte {
		t.Helper()
		now := h.gateClk.Now()
		args, _ := json.Marshal(map[string]bool{"on": on})
		env, err := uplink.Sign(priv, uplink.Command{V: 1, Name: uplink.CmdEvacuate, Args: args, Nonce: uplink.NewNonce(),
			IssuedAt: now, ExpiresAt: now.Add(5 * time.Minute), By: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	outEvacuating := func() bool { return h.runner("out-1").Snapshot().Phase == lane.PhaseEvacuating }

	publish(uplink.CmdEvacuate, evacuate(true))
	waitUntil("the exit lane held open", outEvacuating)
	h.evacuating(true)
	if b := h.barriers["out-1"].Log(); len(b) == 0 || b[len(b)-1] != lane.CommandUp {
		t.Fatalf("exit barrier commands %v", b)
	}
	// It holds: an hour on the gate's clock closes nothing.
	h.gateClk.Advance(time.Hour)
	h.evacuating(true)

	publish(uplink.CmdEvacuate, []byte(`{"name":"evacuate","args":{"on":false}}`))
	waitAlarm(uplink.AlarmCommandRefused, "unsigned")
	h.evacuating(true)

	sup := h.client().mustLogin("sup", supPassword)
	a := sup.do("POST", "/api/v1/evacuation", map[string]any{"on": false, "reason": "试图结束"})
	if a.status != http.StatusConflict || !strings.Contains(string(a.body), "only a signed evacuate command ends it") ||
		!strings.Contains(string(a.body), "只有签名指令可以结束") {
		t.Fatalf("the kiosk ending the office's evacuation = %d %s", a.status, a.body)
	}
	h.evacuating(true)

	publish(uplink.CmdEvacuate, evacuate(false))
	waitUntil("the exit lane closed", func() bool { return !outEvacuating() })
	h.evacuating(false)

	// The kiosk's own evacuation: the office's command cannot end it.
	if a := sup.do("POST", "/api/v1/evacuation", map[string]any{"on": true, "reason": "演练"}); a.status != http.StatusAccepted {
		t.Fatalf("evacuation at the kiosk = %d %s", a.status, a.body)
	}
	h.evacuating(true)
	publish(uplink.CmdEvacuate, evacuate(false))
	waitAlarm(uplink.AlarmCommandFailed, "only a supervisor at the kiosk ends it")
	h.evacuating(true)
}
