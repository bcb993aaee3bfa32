package kiosk

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/store"
)

// Arrivals are the day's expected arrivals: the registry's appointments
// and their pre-clearances (docs/design.md, "Pre-clearance"). A
// *store.Store provides both.
type Arrivals interface {
	Lookup(ctx context.Context, ev checks.Evidence) (*registry.Index, error)
	LatestPreclearances(ctx context.Context) (map[string]store.Preclearance, error)
}

var _ Arrivals = (*store.Store)(nil)

// arrivalsMax bounds the list.
const arrivalsMax = 500

// arrival is one expected arrival as GET /api/v1/arrivals gives it.
type arrival struct {
	ID      string `json:"id"`
	Plate   string `json:"plate"`
	Trailer string `json:"trailer,omitempty"`
	Company string `json:"company"`
	From    string `json:"from"`
	Until   string `json:"until"`
	Status  string `json:"status"`
	Carrier string `json:"carrier,omitempty"`
	Waybill string `json:"waybill,omitempty"`
	// Cargo is the waybill's goods (names and UN numbers), when known.
	Cargo []registry.Good `json:"cargo"`
	// Preclearance is the appointment's latest pre-clearance; null when
	// it has none (not yet judged, or not an approved appointment).
	Preclearance *arrivalPreclearance `json:"preclearance"`
}

type arrivalPreclearance struct {
	ID          string               `json:"id"`
	Verdict     checks.Verdict       `json:"verdict"`
	JudgedAt    string               `json:"judged_at"`
	JudgedFor   string               `json:"judged_for"`
	Trigger     string               `json:"trigger"`
	ClockSynced bool                 `json:"clock_synced"`
	Registry    int64                `json:"registry_version"`
	Checks      []checks.CheckResult `json:"checks"`
}

// handleArrivals serves GET /api/v1/arrivals[?date=YYYY-MM-DD]: the
// appointments whose window meets the day (today on the gate's clock, in
// the park's time zone), by window opening, each with its latest
// pre-clearance and every check's reasons in zh and en. Any signed-in
// account may read it.
func (s *Server) handleArrivals(w http.ResponseWriter, r *http.Request, _ *session) {
	src := s.deps.Arrivals
	if src == nil {
		writeError(w, newError(http.StatusNotFound, errNotFound, "this gate does not keep appointments"))
		return
	}
	loc := s.cfg.Location
	now := s.deps.GateClock.Now().In(loc)
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	if q := r.URL.Query().Get("date"); q != "" {
		d, err := time.ParseInLocation("2006-01-02", q, loc)
		if err != nil {
			writeError(w, newError(http.StatusBadRequest, errBadRequest, "date: "+q+" is not a date such as 2026-03-15"))
			return
		}
		day = d
	}
	end := day.AddDate(0, 0, 1)
	ix, err := src.Lookup(r.Context(), checks.Evidence{})
	var latest map[string]store.Preclearance
	if err == nil {
		latest, err = src.LatestPreclearances(r.Context())
	}
	if err != nil || ix == nil {
		s.log.Error("expected arrivals unknown", "err", err)
		writeError(w, newError(http.StatusInternalServerError, errInternal, "the expected arrivals cannot be read now"))
		return
	}
	out := []arrival{}
	for _, a := range ix.AllAppointments() {
		from, until := a.From.Start(loc), a.Until.End(loc)
		if !from.Before(end) || !until.After(day) {
			continue // the window does not meet the day
		}
		e := arrival{ID: a.ID, Plate: a.Plate, Trailer: a.Trailer, Company: a.Company, From: from.Format(time.RFC3339),
			Until: until.Format(time.RFC3339), Status: a.Status, Waybill: a.Waybill, Cargo: []registry.Good{}}
		if e.Status == "" {
			e.Status = registry.AppointmentApproved
		}
		if v, ok := ix.Vehicle(a.Plate); ok {
			e.Carrier = v.Carrier
		}
		if pc, ok := latest[a.ID]; ok {
			if pc.Trailer != "" {
				e.Trailer = pc.Trailer
			}
			if pc.Waybill != "" {
				e.Waybill = pc.Waybill
			}
			if pc.Carrier != "" {
				e.Carrier = pc.Carrier
			}
			if pc.Goods != nil {
				e.Cargo = pc.Goods
			}
			e.Preclearance = &arrivalPreclearance{ID: pc.ID, Verdict: pc.Verdict, JudgedAt: pc.JudgedAt.In(loc).Format(time.RFC3339),
				JudgedFor: pc.JudgedFor.In(loc).Format(time.RFC3339), Trigger: pc.Trigger, ClockSynced: pc.ClockSynced,
				Registry: pc.Registry.Version, Checks: pc.Checks}
		} else if w, ok := ix.Waybill(a.Waybill); ok && a.Waybill != "" {
			e.Cargo = w.Goods
		}
		out = append(out, e)
		if len(out) == arrivalsMax {
			break
		}
	}
	slices.SortStableFunc(out, func(x, y arrival) int {
		if x.From != y.From {
			// Same zone and layout: the strings order as the times.
			if x.From < y.From {
				return -1
			}
			return 1
		}
		return 0
	})
	writeJSON(w, http.StatusOK, map[string]any{"date": day.Format("2006-01-02"), "arrivals": out})
}
