package sim

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
)

// The prompts of one entry-lane vehicle that presents everything, up to its
// verdict: each card, then its face, then the waybill.
var presents = []string{"请刷身份证", "请面向摄像机", "押运员请刷身份证", "请面向摄像机", "请扫描电子运单", "正在核验，请稍候"}

func vehicleSays(verdict string) []string { return append(slices.Clone(presents), verdict) }

// byPlateNote is said once the plate's read has found the waybill.
const byPlateNote = "电子运单已按车牌调取，无需扫码"

// byPlateSays are the prompts of a vehicle whose waybill is found from its
// plate: the note with the plate read (1 s after arrival, before the
// driver's card), and no scan asked for (issue 16).
func byPlateSays(verdict string) []string {
	p := slices.DeleteFunc(slices.Clone(presents), func(s string) bool { return s == "请扫描电子运单" })
	return append(slices.Insert(p, 1, byPlateNote), verdict)
}

// The demo's transcript: what each lane's simulated voice board decoded
// from the frames the real driver sent it, in order.
func TestDemoTranscript(t *testing.T) {
	sc, err := Parse(DemoYAML, "demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rep := runParsed(t, sc, Options{})
	var in1, in2 []string
	in1 = append(in1, vehicleSays("检查通过，请通行")...)
	in1 = append(in1, byPlateSays("拒绝：UN1203不在罐体适装介质列表中，请靠边停车")...)
	in1 = append(in1, byPlateSays("拒绝：驾驶员从业资格证已过期，请靠边停车")...)
	in1 = append(in1, byPlateSays("拒绝：承运单位在黑名单中，请靠边停车")...)
	// The last one's escort is not matched by face before the deadline:
	// held for review, and released by the operator.
	in1 = append(in1, "请刷身份证", "请面向摄像机", "押运员请刷身份证", "正在核验，请稍候", "请稍候，等待工作人员核验", "工作人员已放行，请通行")
	in2 = append(in2, byPlateSays("拒绝：罐体检验已过有效期，请靠边停车")...)
	in2 = append(in2, byPlateSays("拒绝：牵引车道路运输证已过期，请靠边停车")...)
	in2 = append(in2, byPlateSays("拒绝：运单押运员与刷卡押运员不符，请靠边停车")...)
	in2 = append(in2, vehicleSays("拒绝：驾驶员人脸与身份证照片不符，请靠边停车")...)
	in2 = append(in2, vehicleSays("请稍候，等待工作人员核验")...)
	in2 = append(in2, "拒绝：工作人员未予放行，请靠边停车")
	want := map[string][]string{
		"in-1":  in1,
		"in-2":  in2,
		"out-1": {"正在识别车牌，请稍候", "正在核验，请稍候", "请通行，一路平安"},
	}
	for name, w := range want {
		if got := rep.Lanes[name].Said; !slices.Equal(got, w) {
			t.Errorf("%s said\n%q\nwant\n%q", name, got, w)
		}
	}
	// The display showed the same prompts, in both languages, with the
	// plate and never a name or an ID number.
	d := rep.Lanes["in-1"].Displayed
	if !slices.Contains(d, "检查通过，请通行 / Checks passed, drive on [浙B10001]") ||
		!slices.Contains(d, "拒绝：UN1203不在罐体适装介质列表中，请靠边停车 / Refused: UN1203 is not in the tank's list of suitable media, pull over [浙B10003]") {
		t.Errorf("in-1 displayed %q", d)
	}
	for _, p := range sc.Registry.Persons {
		for _, lines := range rep.Lanes {
			for _, line := range append(slices.Clone(lines.Displayed), lines.Said...) {
				if strings.Contains(line, p.IDNumber) || strings.Contains(line, p.Name) {
					t.Fatalf("%q names %s", line, p.Name)
				}
			}
		}
	}
}

// A voice board unplugged for the whole visit holds nothing up: the
// vehicle passes as it would, and the board is in fault with its alarm.
func TestVoiceUnplugged(t *testing.T) {
	sc, err := Load(filepath.Join("testdata", "01-compliant-tractor-trailer.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	at := Offset(7 * time.Second) // the vehicle arrives at 5 s, its plate is read at 6 s
	sc.Faults = append(sc.Faults, Fault{At: &at, Device: "in-1/voice", Kind: "unplug"})
	rep := runParsed(t, sc, Options{})
	r := rep.Inspections[0]
	if r.Verdict != checks.VerdictPass || !r.Crossed {
		t.Fatalf("verdict %s crossed %t: a voice board holds nothing up", r.Verdict, r.Crossed)
	}
	if !slices.Contains(r.Alarms, "device_fault") {
		t.Fatalf("alarms %v: want the voice board's device_fault", r.Alarms)
	}
	// Only what it said before it was unplugged: the first prompt and,
	// with the plate, the waybill found from it.
	if got := rep.Lanes["in-1"].Said; !slices.Equal(got, []string{"请刷身份证", byPlateNote}) {
		t.Fatalf("said %q, want only the prompt before the unplug", got)
	}
}
