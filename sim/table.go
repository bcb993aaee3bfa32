package sim

import (
	"fmt"
	"io"
	"strings"
	"unicode"
)

// WriteTable prints the verdict table, each row followed by what was
// rejected while its vehicle was at the lane ("rejected: ..."), and, last,
// the line "N passed, M failed".
func (r *Report) WriteTable(w io.Writer) {
	rows := [][]string{{"#", "LANE", "PLATE", "VERDICT", "FAILED CHECKS", "EXPECTED", "RESULT"}}
	for i, e := range r.Inspections {
		failed := strings.Join(e.Failed, ",")
		if failed == "" {
			failed = "-"
		}
		res := "ok"
		if !e.OK {
			res = "DIFFERS"
		}
		plate := e.Plate
		if e.Trailer != "" {
			plate += "/" + e.Trailer
		}
		rows = append(rows, []string{fmt.Sprint(i + 1), e.Lane, plate, string(e.Verdict), failed, expectString(e.Expect), res})
	}
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], displayWidth(c))
		}
	}
	for n, row := range rows {
		var b strings.Builder
		for i, c := range row {
			if i == len(row)-1 {
				b.WriteString(c)
				break
			}
			b.WriteString(pad(c, widths[i]+2))
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
		if n > 0 {
			for _, rej := range r.Inspections[n-1].Rejected {
				fmt.Fprintf(w, "%s  rejected: %s\n", strings.Repeat(" ", widths[0]), rej)
			}
		}
	}
	for _, rej := range r.Rejected {
		fmt.Fprintf(w, "rejected with no vehicle at the lane: %s\n", rej)
	}
	for _, k := range r.MissingAlarms {
		fmt.Fprintf(w, "alarm %s expected during the run, never raised: DIFFERS\n", k)
	}
	for _, p := range r.Preclearances {
		if p.OK {
			fmt.Fprintf(w, "pre-clearance %s %s: %s %v, published before the arrival\n", p.Appointment, p.Plate, p.Verdict, p.Failed)
		} else {
			fmt.Fprintf(w, "pre-clearance %s %s: %s %v: DIFFERS: %s\n", p.Appointment, p.Plate, p.Verdict, p.Failed, p.Why)
		}
	}
	fmt.Fprintf(w, "%d passed, %d failed\n", r.Passed, r.Failed)
}

// displayWidth is how many terminal columns s takes: Chinese characters and
// full-width forms take two.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Han, r), r >= 0xFF01 && r <= 0xFF60, r >= 0x3000 && r <= 0x303F, r >= 0xFFE0 && r <= 0xFFE6:
			n += 2
		default:
			n++
		}
	}
	return n
}

// pad right-pads s with spaces to width columns.
func pad(s string, width int) string {
	if d := width - displayWidth(s); d > 0 {
		return s + strings.Repeat(" ", d)
	}
	return s
}
