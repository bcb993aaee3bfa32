package scanner_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/hazgate/hazgate/device/scanner"
)

// waybillNumber is what the gate accepts as a waybill number (waybill.go's
// numberRe, restated so that a change there is a change here too).
var waybillNumber = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{5,39}$`)

// FuzzExtract feeds Extract arbitrary scans, seeded with the forms the
// scanners send (TestExtract's). Whatever comes in, Extract must not panic;
// it either returns a waybill number, which every form carrying it gives
// back again, or an ErrGarbage that says it is the scanner's.
func FuzzExtract(f *testing.F) {
	const n = "YD3302002603150001"
	for _, s := range []string{
		n, "  " + n + "\r", "]Q1" + n, "330200260315000123",
		"https://example.invalid/ewaybill/view?waybill=" + n + "&sig=abc",
		"http://example.invalid/q?ydh=" + n, "https://example.invalid/q?wayBillNo=" + n,
		"https://example.invalid/waybill/" + n, "https://example.invalid/w/" + n + "/",
		`{"waybill": "` + n + `"}`, `{"ydh":"` + n + `","v":1}`, `{"waybill_no": 330200260315000123}`,
		`{"code":0,"data":{"ydh":"` + n + `"}}`, `{"result":{"Waybill-No":"` + n + `"}}`,
		"", "  \r", "YD12", "hello world", "https://example.invalid/about", "ftp://example.invalid/" + n,
		`{"waybill": `, `{"plate": "浙B12345"}`, "\x00\x01\xff\xfe", "\ufeff" + n, "]", "]Q", "://", "{",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, scan string) {
		got, err := scanner.Extract(scan)
		if err != nil {
			if got != "" || !errors.Is(err, scanner.ErrGarbage) || !strings.HasPrefix(err.Error(), "scanner: ") {
				t.Fatalf("Extract(%q) = %q, %v; want no number and a scanner: error wrapping ErrGarbage", scan, got, err)
			}
			return
		}
		if !waybillNumber.MatchString(got) {
			t.Fatalf("Extract(%q) = %q, which is not a waybill number", scan, got)
		}
		carriers := []string{
			got,
			" ]Q1" + got + "\r\n",
			"https://example.invalid/q?waybill=" + got,
			`{"waybill": "` + got + `"}`,
			`{"data": {"ydh": "` + got + `"}}`,
		}
		if strings.ContainsAny(got, "0123456789") {
			carriers = append(carriers, "https://example.invalid/w/"+got)
		}
		for _, c := range carriers {
			if again, err := scanner.Extract(c); again != got || err != nil {
				t.Fatalf("Extract(%q) = %q; but Extract(%q) = %q, %v", scan, got, c, again, err)
			}
		}
	})
}
