package kiosk

import "time"

// clockHealth is the gate's clock on the health page: fault while it is
// not known to be right (every vehicle then goes to review), unknown when
// the gate does not report it.
type clockHealth struct {
	Status    string    `json:"status"`
	Reported  bool      `json:"reported"`
	Synced    bool      `json:"synced"`
	Source    string    `json:"source,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	CheckedAt time.Time `json:"checked_at,omitzero"`
	Detail    string    `json:"detail,omitempty"`
}

func (s *Server) clockHealth() clockHealth {
	if s.deps.ClockState == nil {
		return clockHealth{Status: statusUnknown}
	}
	st := s.deps.ClockState()
	h := clockHealth{Status: statusOK, Reported: true, Synced: st.Synced, Source: st.Source, Reason: st.Reason, CheckedAt: st.Checked, Detail: st.Detail}
	if !st.Synced {
		h.Status = statusFault
	}
	return h
}

// clockReadiness is /readyz's reason while the clock is not trusted: no
// entry lane can pass a vehicle.
func (s *Server) clockReadiness() []readyReason {
	if s.deps.ClockState == nil || s.deps.ClockState().Synced {
		return nil
	}
	return []readyReason{{Code: "clock_unsynced",
		ZH: "闸口时钟未同步：有效期无法判断，车辆均待人工复核",
		EN: "The gate's clock is not synchronised: validity dates cannot be judged and every vehicle is held for review"}}
}
