package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hazgate/hazgate/idnumber"
)

// BenchmarkFootprint measures the footprint docs/design.md ("Performance and
// scale") asks for, on the built binary as an installer runs it
// (docs/benchmarks.md, "Footprint"):
//
//   - the stripped static linux/arm64 binary's size;
//   - start-up time to ready: `hazgate sim` from exec until it prints the
//     kiosk's address, with the store open, the registry loaded, the
//     simulated devices and their real drivers wired, the embedded broker,
//     the uplink and the kiosk up;
//   - peak RSS with 4 lanes under load: a scenario of 4 entry lanes, 6
//     compliant tankers each, against a registry of 10 000 vehicles, run
//     as fast as it goes (-speed 0) with the broker, uplink and kiosk in
//     the process.
//
// Run it with -benchtime 1x (each run starts the binary twice).
func BenchmarkFootprint(b *testing.B) {
	dir := b.TempDir()
	bin := filepath.Join(dir, "hazgate")
	build := func(out string, env ...string) {
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
		cmd.Env = append(os.Environ(), env...)
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("go build %v: %v\n%s", env, err, msg)
		}
	}
	build(bin, "CGO_ENABLED=0")
	arm := filepath.Join(dir, "hazgate-arm64")
	build(arm, "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	fi, err := os.Stat(arm)
	if err != nil {
		b.Fatal(err)
	}
	scenario := filepath.Join(dir, "four-lanes.yaml")
	if err := os.WriteFile(scenario, []byte(fourLaneScenario(b, 10000, 6)), 0o600); err != nil {
		b.Fatal(err)
	}
	// The same load with only the tankers in the registry: what the 10 000
	// vehicles cost apart.
	small := filepath.Join(dir, "four-lanes-small.yaml")
	if err := os.WriteFile(small, []byte(fourLaneScenario(b, 48, 6)), 0o600); err != nil {
		b.Fatal(err)
	}
	peakOf := func(file, db string) int64 {
		run := exec.Command(bin, "sim", "-scenario", file, "-speed", "0", "-kiosk", "127.0.0.1:0", "-db", db)
		if msg, err := run.CombinedOutput(); err != nil {
			b.Fatalf("%s: %v\n%s", file, err, msg)
		}
		ru, ok := run.ProcessState.SysUsage().(*syscall.Rusage)
		if !ok {
			b.Fatal("no rusage")
		}
		return int64(ru.Maxrss) // KiB on Linux (int32 on 386)
	}

	var startup time.Duration
	var peak, peakSmall int64
	for i := range b.N {
		// Start-up: the demo, until the kiosk's line; then stopped.
		cmd := exec.Command(bin, "sim", "-speed", "0", "-kiosk", "127.0.0.1:0", "-db", filepath.Join(dir, fmt.Sprintf("demo-%d.db", i)))
		out, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		ready := false
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "kiosk: ") {
				startup += time.Since(start)
				ready = true
				break
			}
		}
		cmd.Process.Kill()
		cmd.Wait()
		if !ready {
			b.Fatal("hazgate sim never said the kiosk was up")
		}

		// Peak RSS: the four lanes under load.
		peak = max(peak, peakOf(scenario, filepath.Join(dir, fmt.Sprintf("four-%d.db", i))))
		peakSmall = max(peakSmall, peakOf(small, filepath.Join(dir, fmt.Sprintf("four-small-%d.db", i))))
	}
	b.ReportMetric(float64(fi.Size())/(1<<20), "arm64_stripped_MiB")
	b.ReportMetric(float64(startup.Milliseconds())/float64(b.N), "startup_ms")
	b.ReportMetric(float64(peak)/1024, "peak_rss_4_lanes_MiB")
	b.ReportMetric(float64(peakSmall)/1024, "peak_rss_4_lanes_48_vehicles_MiB")
}

// fourLaneScenario writes a scenario of 4 entry lanes with perLane
// compliant tankers each, queued, against a registry of vehicles vehicles
// (the tankers' tractors and trailers among them). Synthetic data: ID
// numbers of region 990001 with valid check digits.
func fourLaneScenario(b testing.TB, vehicles, perLane int) string {
	var sb strings.Builder
	sb.WriteString("name: four lanes under load\nclock: 2026-03-15T09:00:00+08:00\nregistry:\n  vehicles:\n")
	vehicle := func(plate, kind string) {
		fmt.Fprintf(&sb, "    - {plate: %s, kind: %s, licence_valid_until: 2027-01-31, permit_no: \"P%s\", permit_valid_until: 2027-06-30, permit_classes: [\"2\"], inspection_valid_until: 2026-12-31, rated_load_kg: 40000}\n", plate, kind, strings.TrimPrefix(plate, "浙"))
	}
	tankers := 4 * perLane
	for i := range tankers {
		vehicle(fmt.Sprintf("浙A%05d", i), "tractor")
		vehicle(fmt.Sprintf("浙A%04d挂", i), "trailer")
	}
	for i := range vehicles - 2*tankers {
		vehicle(fmt.Sprintf("浙C%05d", i), "tractor")
	}
	sb.WriteString("  tanks:\n")
	for i := range tankers {
		fmt.Fprintf(&sb, "    - {id: TK-%04d, vehicle: 浙A%04d挂, inspection_valid_until: 2026-09-30, media: [UN1077]}\n", i, i)
	}
	person := func(k int) string {
		id, err := idnumber.Complete(fmt.Sprintf("99000119800101%03d", k))
		if err != nil {
			b.Fatal(err)
		}
		return id
	}
	sb.WriteString("  persons:\n")
	for i := range tankers {
		for r, role := range []string{"driver", "escort"} {
			fmt.Fprintf(&sb, "    - {id_number: \"%s\", name: 测试%d, gender: 男, nation: 汉, birth: 1980-01-01, address: 测试省测试市, authority: 测试市公安局, card_valid_from: 2020-01-01, card_valid_until: 2040-01-01, certificates: [{role: %s, number: C%d, valid_until: 2027-05-01}]}\n",
				person(2*i+r), 2*i+r, role, 2*i+r)
		}
	}
	sb.WriteString("  waybills:\n")
	for i := range tankers {
		fmt.Fprintf(&sb, "    - {number: \"YD%08d\", vehicle: 浙A%05d, trailer: 浙A%04d挂, driver: \"%s\", escort: \"%s\", valid_from: 2026-03-15T00:00:00+08:00, valid_until: 2026-03-16T00:00:00+08:00, goods: [{un: UN1077, name: 丙烯, class: \"2.1\", quantity_kg: 20000}]}\n",
			i, i, i, person(2*i), person(2*i+1))
	}
	sb.WriteString("  blacklist: []\n  synced_at: 2026-03-15T08:00:00+08:00\narrivals:\n")
	for i := range tankers {
		fmt.Fprintf(&sb, "  - {at: %ds, lane: in-%d, plate: 浙A%05d, trailer: 浙A%04d挂, driver: {id_number: \"%s\", face: 0.93}, escort: {id_number: \"%s\", face: 0.91}, waybill: \"YD%08d\", expect: {verdict: pass}}\n",
			1+i/4*30, i%4+1, i, i, person(2*i), person(2*i+1), i)
	}
	return sb.String()
}
