package registry

import (
	"slices"
	"strings"
	"time"
)

// The waybills found from a plate (issue 16 part 1): the index keeps the
// waybill numbers by the normalised plate of the vehicle they name, built
// as the waybills are added. A waybill replaced by one naming another
// vehicle leaves its number under the old plate: WaybillsByPlate checks
// every number it finds against the waybill itself.

func (ix *Index) addWaybillPlate(w Waybill) {
	k := NormalizePlate(w.Vehicle)
	if k == "" || slices.Contains(ix.wbPlates[k], w.Number) {
		return
	}
	if ix.wbPlates == nil {
		ix.wbPlates = map[string][]string{}
	}
	// Clipped: the slice may be shared with the index this one was
	// applied to, which must not change.
	ix.wbPlates[k] = append(slices.Clip(ix.wbPlates[k]), w.Number)
}

// dropWaybillPlate removes the waybill number from its vehicle's list,
// before the waybill itself is deleted.
func (ix *Index) dropWaybillPlate(number string) {
	w, ok := ix.waybills.get(number)
	if !ok {
		return
	}
	k := NormalizePlate(w.Vehicle)
	ns := ix.wbPlates[k]
	if i := slices.Index(ns, number); i >= 0 {
		ns = slices.Delete(slices.Clone(ns), i, i+1)
		if len(ns) == 0 {
			delete(ix.wbPlates, k)
		} else {
			ix.wbPlates[k] = ns
		}
	}
}

// Valid reports whether the waybill's status lets it carry anything
// (valid, or none given).
func (w Waybill) Valid() bool { return w.Status == "" || w.Status == WaybillValid }

// WaybillsByPlate returns the waybills that could be the vehicle's: they
// name the vehicle with this plate, are valid (status) and hold at now
// (date-only bounds in loc), and, when trailer is not empty and the
// waybill names a trailer, name that trailer. Sorted by number.
func (ix *Index) WaybillsByPlate(plate, trailer string, now time.Time, loc *time.Location) []Waybill {
	k := NormalizePlate(plate)
	if k == "" {
		return nil
	}
	tk := NormalizePlate(trailer)
	var out []Waybill
	for _, n := range ix.wbPlates[k] {
		w, ok := ix.waybills.get(n)
		if !ok || NormalizePlate(w.Vehicle) != k || !w.Valid() {
			continue
		}
		if !w.ValidFrom.ValidFrom(now, loc) || !w.ValidUntil.ValidUntil(now, loc) {
			continue
		}
		if tk != "" && w.Trailer != "" && NormalizePlate(w.Trailer) != tk {
			continue
		}
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b Waybill) int { return strings.Compare(a.Number, b.Number) })
	return out
}
