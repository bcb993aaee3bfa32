package kiosk

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/store"
)

// maxExport bounds a day's export; a gate decides a few hundred vehicles a
// day.
const maxExport = 20000

// csvKeys name the export's columns in code and tests (docs/kiosk.md lists
// them); csvColumns are their headers in English and Chinese, in the same
// order (the first row is in the language the export asks for).
var csvKeys = []string{
	"id", "lane", "direction", "arrived_at", "decided_at", "plate", "trailer",
	"driver_name", "driver_id", "escort_name", "escort_id", "waybill",
	"verdict", "failed_checks", "unknown_checks", "reasons", "decided_by", "outcome", "outcome_operator", "operator_decisions",
}

var csvColumns = []text{
	{EN: "Inspection ID", ZH: "检查编号"}, {EN: "Lane", ZH: "车道"}, {EN: "Direction", ZH: "方向"},
	{EN: "Arrived at", ZH: "到达时间"}, {EN: "Decided at", ZH: "判定时间"}, {EN: "Plate", ZH: "车牌"}, {EN: "Trailer", ZH: "挂车"},
	{EN: "Driver name", ZH: "驾驶员姓名"}, {EN: "Driver ID (masked)", ZH: "驾驶员证件号（脱敏）"},
	{EN: "Escort name", ZH: "押运员姓名"}, {EN: "Escort ID (masked)", ZH: "押运员证件号（脱敏）"}, {EN: "Waybill", ZH: "电子运单"},
	{EN: "Verdict", ZH: "结论"}, {EN: "Failed checks", ZH: "不通过项"}, {EN: "Unknown checks", ZH: "无法确认项"},
	{EN: "Reasons", ZH: "原因代码"}, {EN: "Decided by", ZH: "判定者"}, {EN: "Outcome", ZH: "处理结果"},
	{EN: "Outcome operator", ZH: "处理操作员"}, {EN: "Operator decisions", ZH: "操作员处理记录"},
}

// csvHeader is the export's first row in lang ("zh" or "en").
func csvHeader(lang string) []string {
	row := make([]string, len(csvColumns))
	for i, c := range csvColumns {
		row[i] = c.ZH
		if lang == "en" {
			row[i] = c.EN
		}
	}
	return row
}

// handleExport writes a day's inspections (GET ?date=YYYY-MM-DD, in the
// park's time zone; lang=zh, the default, or en for the headers) as CSV,
// oldest first, ID numbers masked. The export is
// audited: records leave the gate.
func (s *Server) handleExport(w http.ResponseWriter, r *http.Request, sess *session) {
	day := r.URL.Query().Get("date")
	from, to, err := parseDay(day, s.cfg.Location)
	if err != nil {
		writeError(w, newError(http.StatusBadRequest, errBadRequest, "date=YYYY-MM-DD is required"))
		return
	}
	lang := r.URL.Query().Get("lang")
	switch lang {
	case "":
		lang = "zh"
	case "zh", "en":
	default:
		writeError(w, newError(http.StatusBadRequest, errBadRequest, "lang is zh or en"))
		return
	}
	ctx := r.Context()
	list, err := s.deps.Store.ListInspections(ctx, store.Filter{From: from, To: to, Limit: maxExport})
	if err != nil {
		s.log.Error("export failed", "date", day, "err", err)
		writeError(w, newError(http.StatusServiceUnavailable, errUnavailable, "the history could not be read"))
		return
	}
	rows := [][]string{csvHeader(lang)}
	for i := len(list) - 1; i >= 0; i-- { // oldest first
		ins := &list[i]
		decisions, err := s.deps.Store.Decisions(ctx, ins.ID)
		if err != nil {
			writeError(w, newError(http.StatusServiceUnavailable, errUnavailable, "the decisions could not be read"))
			return
		}
		rows = append(rows, s.csvRow(ins, decisions))
	}
	if e := s.audit(ctx, sess.actor(), "kiosk.export", "gate", map[string]any{"date": day, "rows": len(list)}); e != nil {
		writeError(w, e)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="hazgate-%s-%s.csv"`, safeFileName(s.cfg.Gate), day))
	w.Header().Set("Cache-Control", "no-store")
	// A byte-order mark, so spreadsheet programs read the Chinese as UTF-8.
	w.Write([]byte("\uFEFF"))
	cw := csv.NewWriter(w)
	cw.WriteAll(rows)
	if err := cw.Error(); err != nil {
		s.log.Warn("export not fully written", "date", day, "err", err)
	}
}

func (s *Server) csvRow(ins *store.Inspection, decisions []store.Decision) []string {
	sum := newSummary(ins, decisions)
	name := func(p *personView) (string, string) {
		if p == nil {
			return "", ""
		}
		return p.Name, p.ID
	}
	dn, di := name(sum.Driver)
	en, ei := name(sum.Escort)
	var reasons []string
	for _, c := range ins.Outcome.Checks {
		if c.Result != checks.Pass {
			for _, r := range c.Reasons {
				reasons = append(reasons, c.ID+":"+r.Code)
			}
		}
	}
	for _, r := range ins.Outcome.Reasons {
		reasons = append(reasons, "verdict:"+r.Code)
	}
	var ds []string
	for _, d := range decisions {
		ds = append(ds, fmt.Sprintf("%s %s by %s: %s", d.At.In(s.cfg.Location).Format(time.RFC3339), d.Action, d.Operator, d.Reason))
	}
	row := []string{
		ins.ID, ins.Lane, string(ins.Direction),
		ins.ArrivedAt.In(s.cfg.Location).Format(time.RFC3339), ins.DecidedAt.In(s.cfg.Location).Format(time.RFC3339),
		sum.Plate, sum.Trailer, dn, di, en, ei, sum.Waybill, string(sum.Verdict),
		strings.Join(sum.Failed, " "), strings.Join(sum.Unknown, " "), strings.Join(reasons, " "),
		ins.DecidedBy, sum.Outcome, outcomeOperator(sum), strings.Join(ds, " | "),
	}
	for i, c := range row {
		row[i] = csvSafe(c)
	}
	return row
}

// outcomeOperator is the operator whose decision ended the case, or "".
func outcomeOperator(sum inspectionSummary) string {
	if sum.Decision == nil {
		return ""
	}
	return sum.Decision.Operator
}

// csvSafe keeps a cell from being read as a formula by a spreadsheet: one
// that starts with = + - @ or a tab or carriage return gets a leading
// apostrophe.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// safeFileName keeps letters, digits, '-' and '_'.
func safeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
			return r
		}
		return '_'
	}, s)
}
