package waybill_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/idnumber"
	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/store"
	"github.com/hazgate/hazgate/waybill"
)

var (
	cst = time.FixedZone("CST", 8*3600)
	t0  = time.Date(2026, 3, 15, 9, 0, 0, 0, cst)
)

func id(first17 string) string {
	s, err := idnumber.Complete(first17)
	if err != nil {
		panic(err)
	}
	return s
}

func bill(number, status string) registry.Waybill {
	from, _ := registry.ParseValidity("2026-03-15T00:00:00+08:00")
	until, _ := registry.ParseValidity("2026-03-16T00:00:00+08:00")
	return registry.Waybill{Number: number, Vehicle: "浙B12345", Trailer: "浙B6789挂",
		Driver: id("99000019800101001"), Escort: id("99000019850505002"), ValidFrom: from, ValidUntil: until,
		Goods: []registry.Good{{UN: "UN1077", Name: "丙烯", Class: "2.1", QuantityKg: 24000}}, Status: status}
}

// service is a waybill service on loopback: it answers what answer says
// for a number, counts requests and keeps the last Authorization.
type service struct {
	*httptest.Server
	mu       sync.Mutex
	answer   func(w http.ResponseWriter, r *http.Request)
	requests atomic.Int32
	auth     atomic.Value
}

func newService(t *testing.T, answer func(w http.ResponseWriter, r *http.Request)) *service {
	s := &service{answer: answer}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.auth.Store(r.Header.Get("Authorization"))
		s.mu.Lock()
		a := s.answer
		s.mu.Unlock()
		a(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func answering(ws ...registry.Waybill) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		for _, wb := range ws {
			if wb.Number == r.URL.Query().Get("number") {
				json.NewEncoder(w).Encode(waybill.Answer{Waybill: &wb})
				return
			}
		}
		http.NotFound(w, r)
	}
}

type fixture struct {
	st     *store.Store
	clk    *clock.Fake
	svc    *service
	looker *waybill.Looker
}

// newFixture: a store whose registry holds YD1 (synced at synced), a
// service, and a looker with a 3 s timeout and a 15 min max age.
func newFixture(t *testing.T, synced time.Time, answer func(w http.ResponseWriter, r *http.Request)) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "gate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	snap := &registry.Snapshot{Waybills: []registry.Waybill{bill("YD1", "")}, SyncedAt: registry.Instant(synced)}
	if err := st.ImportSnapshot(ctx, snap, "test", t0); err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st, clk: clock.NewFake(t0), svc: newService(t, answer)}
	c, err := waybill.NewClient(waybill.Config{URL: f.svc.URL + "/v1/waybill", Timeout: 3 * time.Second, Token: "s3cret", Clock: f.clk})
	if err != nil {
		t.Fatal(err)
	}
	f.looker = &waybill.Looker{Client: c, Store: st, MaxAge: 15 * time.Minute, Clock: f.clk}
	return f
}

func TestLooker(t *testing.T) {
	ctx := context.Background()
	stale := t0.Add(-time.Hour)
	t.Run("only in the service: fetched, cached with its fetch time", func(t *testing.T) {
		f := newFixture(t, stale, answering(bill("YD2", "")))
		l := f.looker.Find(ctx, "in-1", "YD2")
		if l.Source != checks.WaybillFromService || l.Waybill == nil || l.Unavailable || !l.FetchedAt.Equal(t0) {
			t.Fatalf("lookup %+v", l)
		}
		if got := f.svc.auth.Load(); got != "Bearer s3cret" {
			t.Fatalf("Authorization %q", got)
		}
		w, at, ok, err := f.st.CachedWaybill(ctx, "YD2")
		if err != nil || !ok || !at.Equal(t0) || w.Number != "YD2" {
			t.Fatalf("cache: %+v %v %t %v", w, at, ok, err)
		}
		// Asked again within max_age: the cache answers, the service is
		// not asked.
		f.clk.Advance(10 * time.Minute)
		l = f.looker.Find(ctx, "in-1", "YD2")
		if l.Source != checks.WaybillFromCache || f.svc.requests.Load() != 1 {
			t.Fatalf("second lookup %+v after %d requests", l, f.svc.requests.Load())
		}
	})
	t.Run("cancelled in the service", func(t *testing.T) {
		f := newFixture(t, stale, answering(bill("YD1", registry.WaybillCancelled)))
		l := f.looker.Find(ctx, "in-1", "YD1")
		if l.Source != checks.WaybillFromService || l.Waybill.Status != registry.WaybillCancelled {
			t.Fatalf("lookup %+v", l)
		}
	})
	t.Run("a fresh registry copy: the service is not asked", func(t *testing.T) {
		f := newFixture(t, t0.Add(-time.Minute), answering(bill("YD1", registry.WaybillCancelled)))
		l := f.looker.Find(ctx, "in-1", "YD1")
		if l.Source != checks.WaybillFromRegistry || l.Waybill.Status != "" || f.svc.requests.Load() != 0 {
			t.Fatalf("lookup %+v after %d requests", l, f.svc.requests.Load())
		}
	})
	down := func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) }
	t.Run("down, with a registry copy: the copy", func(t *testing.T) {
		f := newFixture(t, stale, down)
		l := f.looker.Find(ctx, "in-1", "YD1")
		if l.Source != checks.WaybillFromRegistry || l.Waybill == nil || l.Unavailable || !strings.Contains(l.Detail, "503") {
			t.Fatalf("lookup %+v", l)
		}
	})
	t.Run("down, without a copy: unavailable", func(t *testing.T) {
		f := newFixture(t, stale, down)
		l := f.looker.Find(ctx, "in-1", "YD2")
		if !l.Unavailable || l.Waybill != nil || l.Source != "" {
			t.Fatalf("lookup %+v", l)
		}
	})
	t.Run("unreachable, without a copy: unavailable", func(t *testing.T) {
		f := newFixture(t, stale, down)
		f.svc.Close()
		l := f.looker.Find(ctx, "in-1", "YD2")
		if !l.Unavailable || strings.Contains(l.Detail, "dial tcp") {
			t.Fatalf("lookup %+v (the detail in plain words)", l)
		}
	})
	t.Run("not known to the service: no copy, not unavailable", func(t *testing.T) {
		f := newFixture(t, stale, answering())
		l := f.looker.Find(ctx, "in-1", "YD2")
		if l.Unavailable || l.Waybill != nil {
			t.Fatalf("lookup %+v", l)
		}
	})
	t.Run("slow beyond the timeout: unavailable", func(t *testing.T) {
		arrived := make(chan struct{})
		f := newFixture(t, stale, func(w http.ResponseWriter, r *http.Request) {
			close(arrived)
			<-r.Context().Done()
		})
		got := make(chan checks.WaybillLookup)
		f.looker.Lookup(ctx, "in-1", "YD2", func(l checks.WaybillLookup) { got <- l })
		select {
		case <-arrived:
		case <-time.After(30 * time.Second):
			t.Fatal("the request never reached the service")
		}
		f.clk.Advance(3 * time.Second)
		select {
		case l := <-got:
			if !l.Unavailable || !strings.Contains(l.Detail, "3s") {
				t.Fatalf("lookup %+v", l)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("no answer after the timeout")
		}
		f.looker.Wait()
	})
	bad := []struct {
		name string
		body string
	}{
		{"malformed JSON", `{"waybill": {"number": "YD2",`},
		{"another waybill", mustJSON(waybill.Answer{Waybill: ptr(bill("YD3", ""))})},
		{"an unknown field", `{"waybill": ` + mustJSON(bill("YD2", "")) + `, "extra": 1}`},
		{"an unknown status", mustJSON(waybill.Answer{Waybill: ptr(bill("YD2", "void"))})},
		{"no waybill", `{}`},
		{"two documents", mustJSON(waybill.Answer{Waybill: ptr(bill("YD2", ""))}) + `{}`},
		{"oversized", `{"waybill": ` + mustJSON(bill("YD2", "")) + strings.Repeat(" ", waybill.MaxAnswerBytes) + `}`},
	}
	for _, b := range bad {
		t.Run("bad answer: "+b.name, func(t *testing.T) {
			f := newFixture(t, stale, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(b.body)) })
			l := f.looker.Find(ctx, "in-1", "YD2")
			if !l.Unavailable || l.Waybill != nil {
				t.Fatalf("lookup %+v", l)
			}
			if _, _, ok, _ := f.st.CachedWaybill(ctx, "YD2"); ok {
				t.Fatal("a bad answer was cached")
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	_, err := waybill.Decode([]byte(`[]`), "YD1")
	if !errors.Is(err, waybill.ErrBadAnswer) {
		t.Fatalf("err %v", err)
	}
	w, err := waybill.Decode([]byte(mustJSON(waybill.Answer{Waybill: ptr(bill("YD1", registry.WaybillCompleted))})), "YD1")
	if err != nil || w.Status != registry.WaybillCompleted {
		t.Fatalf("%+v %v", w, err)
	}
}

func TestNewClientRefuses(t *testing.T) {
	for _, cfg := range []waybill.Config{
		{URL: "ftp://x/y"},
		{URL: "https://x/y", CertFile: "c.pem"},
		{URL: "https://x/y", CAFile: filepath.Join(t.TempDir(), "missing.pem")},
	} {
		if _, err := waybill.NewClient(cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
