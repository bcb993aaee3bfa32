package lane

import (
	"strings"

	"github.com/hazgate/hazgate/checks"
)

// plateSeen keeps what the camera saw with the plate: its colour, the
// danger mark and its pictures. A read of the same plate that does not say
// (the operator typing it) keeps the earlier read's; a read of another
// plate replaces them.
func (m *machine) plateSeen(e PlateRead, same bool) {
	ev := &m.s.Evidence
	if !same {
		ev.PlateColor, ev.Placard, ev.Pictures, ev.Exempt = "", nil, nil, ""
	}
	if e.Exempt != "" {
		ev.Exempt = e.Exempt
	}
	if e.Color != "" {
		ev.PlateColor = e.Color
	}
	if e.Placard != nil {
		v := *e.Placard
		ev.Placard = &v
	}
	if e.Pictures != nil {
		ev.Pictures = e.Pictures
	}
	if !m.s.Config.Exit {
		m.waybillFromPlate(e, same)
	}
}

// waybillFromPlate takes the waybill found from the plate (issue 16): the
// evidence, unless a scan named one (a scan wins). A read of another plate
// drops the waybill found from the earlier plate; a read of the same
// plate that names none (the operator typing it) keeps it.
func (m *machine) waybillFromPlate(e PlateRead, same bool) {
	ev := &m.s.Evidence
	n := strings.TrimSpace(e.WaybillByPlate)
	if !same {
		if ev.WaybillSource == checks.WaybillByPlate {
			ev.Waybill, ev.WaybillSource, ev.WaybillLookup = "", "", nil
		}
		ev.WaybillByPlate = ""
	}
	if n == "" {
		return
	}
	ev.WaybillByPlate = n
	if ev.WaybillSource == checks.WaybillScanned {
		return
	}
	if ev.Waybill != n {
		ev.WaybillLookup = nil
	}
	ev.Waybill, ev.WaybillSource = n, checks.WaybillByPlate
	m.lookupWaybill()
}
