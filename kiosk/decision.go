package kiosk

import (
	"context"
	"net/http"

	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/store"
)

// An operator's decision closes the case: the lane, the history and the
// inspection's page show who released or refused the vehicle and why, and
// a second decision on the inspection is refused (409). The store keeps
// one decision per inspection (store.ErrDecided); the lane takes no other
// decision after a refusal; the kiosk says so before either is asked.

// decisionView is an operator's decision as the screen shows it.
type decisionView struct {
	Operator string `json:"operator"`
	Action   string `json:"action"`
	Reason   string `json:"reason"`
	At       string `json:"at,omitempty"` // RFC 3339; empty on a lane (not known there)
	Text     text   `json:"text"`         // "Released by 王五: reason", in both languages
}

func newDecisionView(operator, action, reason string) decisionView {
	return decisionView{Operator: operator, Action: action, Reason: reason, Text: decisionText(operator, action, reason)}
}

// decisionText says who decided what, and why.
func decisionText(operator, action, reason string) text {
	if action == store.ActionRelease {
		return text{ZH: "已放行（" + operator + "）：" + reason, EN: "Released by " + operator + ": " + reason}
	}
	return text{ZH: "已拒绝放行（" + operator + "）：" + reason, EN: "Refused by " + operator + ": " + reason}
}

// outcomeText names an inspection's outcome (store.Outcome*).
func outcomeText(outcome string) text {
	switch outcome {
	case store.OutcomePassed:
		return text{ZH: "自动放行", EN: "Passed"}
	case store.OutcomeReleased:
		return text{ZH: "人工放行", EN: "Released"}
	case store.OutcomeRefused:
		return text{ZH: "拒绝放行", EN: "Refused"}
	}
	return text{ZH: "待处理", EN: "Pending"}
}

// alreadyDecided is the 409 for a decision on a case already closed.
func alreadyDecided(operator, action string) *apiError {
	if action == store.ActionRelease {
		return newTextError(http.StatusConflict, errDecided, text{
			ZH: "该车辆已由 " + operator + " 放行，不能再次处理",
			EN: "Already released by " + operator + ": the case is closed",
		})
	}
	return newTextError(http.StatusConflict, errDecided, text{
		ZH: "该车辆已由 " + operator + " 拒绝放行，不能再次处理",
		EN: "Already refused by " + operator + ": the case is closed",
	})
}

// decisionConflict returns the 409 for a decision (action) on the lane's
// held vehicle when its case is closed, or nil. The only decision taken
// after another is a release of a released vehicle the lane held again
// (lock-down, a barrier that failed to open, nothing crossed in time),
// which opens under the recorded release. The store is asked too: the
// lane may not show yet a decision it has just recorded.
func (s *Server) decisionConflict(ctx context.Context, snap lane.Snapshot, action string) *apiError {
	again := func(prev string) bool { return prev == lane.ActionRelease && action == lane.ActionRelease }
	if d := snap.Decision; d != nil && !again(d.Action) {
		return alreadyDecided(d.Operator, d.Action)
	}
	if snap.InspectionID == "" {
		return nil
	}
	ds, err := s.deps.Store.Decisions(ctx, snap.InspectionID)
	if err != nil {
		s.log.Error("decisions not read", "inspection", snap.InspectionID, "err", err)
		return newError(http.StatusServiceUnavailable, errUnavailable, "the decisions could not be read")
	}
	if len(ds) > 0 && !again(ds[0].Action) {
		return alreadyDecided(ds[0].Operator, ds[0].Action)
	}
	return nil
}
