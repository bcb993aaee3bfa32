package plate_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hazgate/hazgate/device/plate"
	"github.com/hazgate/hazgate/registry"
)

// seeds are the recorded pushes of one kind in testdata.
func seeds(f *testing.F, glob string) [][]byte {
	names, _ := filepath.Glob("testdata/" + glob)
	var out [][]byte
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// checkRead holds for every read a parser gives: a plate the registry
// could hold, a colour of GA 36 or none, a confidence in 0..1, JPEG
// pictures.
func checkRead(t *testing.T, rep plate.Report) {
	r := rep.Read
	if rep.Kind != plate.ReportRead {
		if r.Plate != "" {
			t.Fatalf("a %v report with a plate", rep.Kind)
		}
		return
	}
	if r.Plate != "" && registry.PlateProblem(r.Plate) != "" {
		t.Fatalf("plate %q: %s", r.Plate, registry.PlateProblem(r.Plate))
	}
	if c, ok := registry.PlateColor(r.Color); r.Color != "" && (!ok || c != r.Color) {
		t.Fatalf("colour %q", r.Color)
	}
	if r.Plate != "" && !(r.Confidence >= 0 && r.Confidence <= 1) {
		t.Fatalf("confidence %v", r.Confidence)
	}
	if p := r.Pictures; p != nil {
		for _, b := range [][]byte{p.Plate, p.Scene} {
			if b != nil && (len(b) < 3 || b[0] != 0xff || b[1] != 0xd8) {
				t.Fatalf("a picture that is not a JPEG: % x", b[:min(len(b), 4)])
			}
		}
	}
}

func FuzzParseISAPI(f *testing.F) {
	for _, b := range seeds(f, "isapi_*.xml") {
		f.Add("application/xml", b)
		ct, body := plate.ISAPIMultipart(b, []byte{0xff, 0xd8, 0xff, 0xe0}, nil)
		f.Add(ct, body)
	}
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		rep, err := plate.ParseISAPI(ct, body)
		if err != nil {
			return
		}
		checkRead(t, rep)
	})
}

func FuzzParseITSAPI(f *testing.F) {
	for _, b := range seeds(f, "itsapi_*.json") {
		f.Add("/api/v1/cameras/in-2/NotificationInfo/TollgateInfo", b)
		f.Add("/api/v1/cameras/in-2/NotificationInfo/KeepAlive", b)
	}
	f.Fuzz(func(t *testing.T, path string, body []byte) {
		rep, err := plate.ParseITSAPI(path, body)
		if err != nil {
			return
		}
		if rep.Kind == plate.ReportHeartbeat && !strings.HasSuffix(path, "KeepAlive") {
			t.Fatalf("a heartbeat on %q", path)
		}
		checkRead(t, rep)
	})
}
