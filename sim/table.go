package sim

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteTable prints the verdict table and, last, the line "N passed, M failed".
func (r *Report) WriteTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tLANE\tPLATE\tVERDICT\tFAILED CHECKS\tEXPECTED\tRESULT")
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
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", i+1, e.Lane, plate, e.Verdict, failed, expectString(e.Expect), res)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d passed, %d failed\n", r.Passed, r.Failed)
}
