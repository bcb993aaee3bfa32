package registry

import (
	"fmt"
	"slices"
)

// A waybill's status, as the registry and the waybill service give it. A
// waybill without one is valid.
const (
	WaybillValid     = "valid"
	WaybillCancelled = "cancelled" // withdrawn by its carrier: it carries nothing any more
	WaybillCompleted = "completed" // its trip is over
)

// WaybillStatusProblem says what is wrong with a waybill's status ("" when
// nothing is).
func WaybillStatusProblem(s string) string {
	switch s {
	case "", WaybillValid, WaybillCancelled, WaybillCompleted:
		return ""
	}
	return fmt.Sprintf("%q is not valid, cancelled or completed", s)
}

// Clone returns a copy of w that shares nothing with it.
func (w Waybill) Clone() Waybill {
	w.Goods = slices.Clone(w.Goods)
	return w
}

// Validate returns every mistake in one waybill, with fields under
// "waybill" (the waybill service's answer is checked as the registry's
// records are).
func (w Waybill) Validate() []Problem {
	s := Snapshot{Waybills: []Waybill{w}}
	ps := s.Validate()
	for i := range ps {
		ps[i].Field = "waybill" + ps[i].Field[len("waybills[0]"):]
	}
	return ps
}
