package lane

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
}
