package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/device/idcard"
	"github.com/hazgate/hazgate/device/idcard/idcardtest"
	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/sim/simreader"
)

func simReader(t *testing.T) *simreader.Reader {
	t.Helper()
	r, err := simreader.New(filepath.Join(t.TempDir(), "hazgate-idcard-in1"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestIDCardRead(t *testing.T) {
	r := simReader(t)
	c := simreader.CardFor(checks.PersonEvidence{IDNumber: "990001198001010019", Name: "张三", CardValidFrom: registry.Date(2016, 1, 1)},
		registry.Person{Gender: "男", Nation: "汉", Birth: registry.Date(1980, 1, 1), Address: "测试地址", Authority: "测试公安局"})
	c.AddedAddress = "测试路2号"
	if err := r.Present(c); err != nil {
		t.Fatal(err)
	}
	code, out, errs := run(t, "idcard", "read", "-port", r.Path(), "-timeout", "10s")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	sum := sha256.Sum256(idcardtest.Photo("990001198001010019"))
	photo, _ := got["photo"].(map[string]any)
	if got["id_number"] != "990001198001010019" || got["name"] != "张三" || got["long_term"] != true ||
		got["valid_from"] != "2016-01-01" || got["valid_until"] != nil || got["id_number_valid"] != true ||
		got["added_address"] != "测试路2号" || got["nation"] != "汉" || got["kind"] != "resident" ||
		photo["bytes"] != float64(1024) || photo["sha256"] != hex.EncodeToString(sum[:]) {
		t.Fatalf("got %s", out)
	}
}

func TestIDCardReadFailures(t *testing.T) {
	t.Run("no reader", func(t *testing.T) {
		code, _, errs := run(t, "idcard", "read", "-port", filepath.Join(t.TempDir(), "nothing"), "-timeout", "1s")
		if code != 1 || !strings.Contains(errs, "no reader") {
			t.Fatalf("exit %d: %s", code, errs)
		}
	})
	t.Run("reader silent", func(t *testing.T) {
		r := simReader(t)
		r.Silence(true)
		code, _, errs := run(t, "idcard", "read", "-port", r.Path(), "-timeout", "5s")
		if code != 1 || !strings.Contains(errs, "no reader answering") {
			t.Fatalf("exit %d: %s", code, errs)
		}
	})
	t.Run("no card in time", func(t *testing.T) {
		r := simReader(t)
		code, _, errs := run(t, "idcard", "read", "-port", r.Path(), "-timeout", "500ms")
		if code != 1 || !strings.Contains(errs, "no card") {
			t.Fatalf("exit %d: %s", code, errs)
		}
	})
	t.Run("bad frame", func(t *testing.T) {
		r := simReader(t)
		r.Fake().SetCorrupt(idcard.CmdRead, true)
		r.Present(simreader.CardFor(checks.PersonEvidence{IDNumber: "990001198001010019", Name: "张三"}, registry.Person{}))
		code, _, errs := run(t, "idcard", "read", "-port", r.Path(), "-timeout", "20s")
		if code != 1 || !strings.Contains(errs, "bad frame") {
			t.Fatalf("exit %d: %s", code, errs)
		}
	})
	t.Run("usage", func(t *testing.T) {
		if code, _, _ := run(t, "idcard", "read"); code != 2 {
			t.Fatalf("exit %d", code)
		}
	})
}
