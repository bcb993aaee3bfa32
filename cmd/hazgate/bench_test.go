package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"go.yaml.in/yaml/v3"

	"github.com/hazgate/hazgate/device/camera/cameratest"
	"github.com/hazgate/hazgate/device/facematch/facematchtest"
	"github.com/hazgate/hazgate/idnumber"
	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/registry/registrytest"
	"github.com/hazgate/hazgate/uplink"
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
//     the process (under peakRSS's wrapper).
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
	wrapper := peakWrapper(b, dir)
	peakOf := func(file, db string) float64 {
		p, _ := peakRSS(b, wrapper, exec.Command(bin, "sim", "-scenario", file, "-speed", "0", "-kiosk", "127.0.0.1:0", "-db", db))
		return p
	}

	var startup time.Duration
	var peak, peakSmall float64
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
	b.ReportMetric(peak, "peak_rss_4_lanes_MiB")
	b.ReportMetric(peakSmall, "peak_rss_4_lanes_48_vehicles_MiB")
}

// fourLaneScenario writes a scenario of 4 entry lanes with perLane
// compliant tankers each, queued, against a registry of vehicles vehicles
// (the tankers' tractors and trailers among them). The registry is written
// in block style, one record a line, which the simulator reads as a stream
// (sim/scenario_registry.go). Synthetic data: ID numbers of region 990001
// with valid check digits.
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

// buildHazgate builds the binary as an installer runs it (static, stripped)
// into dir, for this machine.
func buildHazgate(b *testing.B, dir string) string {
	bin := filepath.Join(dir, "hazgate")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, msg)
	}
	return bin
}

// peakRSS runs cmd to its end under wrapper (see peakWrapper) and returns
// the kernel's maximum resident set of the process, in MiB, and its
// combined output. The test binary does not start it itself: Go starts a
// child by vfork, and the kernel carries the starting process's own peak
// into the child's (ru_maxrss survives exec), so a benchmark that has
// built a large registry would see its own peak instead.
func peakRSS(b *testing.B, wrapper string, cmd *exec.Cmd) (float64, []byte) {
	w := exec.Command(wrapper, cmd.Args...)
	w.Path = wrapper
	w.Args = append([]string{wrapper, cmd.Path}, cmd.Args[1:]...)
	w.Env, w.Dir = cmd.Env, cmd.Dir
	out, err := w.CombinedOutput()
	if err != nil {
		b.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
	}
	i := bytes.LastIndex(out, []byte("peak-rss-kib: "))
	var kib int64
	if i < 0 {
		b.Fatalf("no peak from the wrapper:\n%s", out)
	}
	if _, err := fmt.Sscanf(string(out[i:]), "peak-rss-kib: %d", &kib); err != nil {
		b.Fatalf("the wrapper's peak: %v\n%s", err, out)
	}
	return float64(kib) / 1024, out[:i]
}

// peakWrapperSrc is a program of a few lines that runs its arguments as a
// command, passes its output through and SIGINT and SIGTERM on, and prints
// the command's peak RSS (its rusage) last: the wrapper's own few MiB are the floor of what it
// can report.
const peakWrapperSrc = `package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

func main() {
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stdout
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	if err := cmd.Start(); err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	go func() {
		for s := range sig {
			cmd.Process.Signal(s)
		}
	}()
	err := cmd.Wait()
	if cmd.ProcessState == nil {
		fmt.Println(err)
		os.Exit(2)
	}
	fmt.Printf("peak-rss-kib: %d\n", cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
}
`

// peakWrapper builds the wrapper peakRSS runs commands under, into dir.
func peakWrapper(b *testing.B, dir string) string {
	src := filepath.Join(dir, "peakrss.go")
	if err := os.WriteFile(src, []byte(peakWrapperSrc), 0o600); err != nil {
		b.Fatal(err)
	}
	bin := filepath.Join(dir, "peakrss")
	cmd := exec.Command("go", "build", "-o", bin, src)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GO111MODULE=off")
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build the wrapper: %v\n%s", err, msg)
	}
	return bin
}

// footprintVehicles is the city-sized registry of issue 14: 10 000
// vehicles.
const footprintVehicles = 10000

// footprintPeople are the numbers of persons (and as many waybills) the
// footprint is measured with beside the 10 000 vehicles: about as many as
// the four lanes' tankers need (BenchmarkFootprint's scenario has 48
// persons and 24 waybills), and a city's worth, one of each for every
// vehicle.
var footprintPeople = []int{48, footprintVehicles}

// footprintRegistry is a registry of footprintVehicles vehicles and people
// persons and waybills (registrytest.WriteBig's, the persons and waybills
// after the first people left out), as JSON.
func footprintRegistry(b *testing.B, people int, version int64, syncedAt time.Time) []byte {
	var buf bytes.Buffer
	n, err := registrytest.WriteBig(&buf, footprintVehicles*775, version, syncedAt)
	if err != nil {
		b.Fatal(err)
	}
	if n != footprintVehicles {
		b.Fatalf("WriteBig wrote %d vehicles, want %d", n, footprintVehicles)
	}
	var s registry.Snapshot
	if err := json.Unmarshal(buf.Bytes(), &s); err != nil {
		b.Fatal(err)
	}
	s.Persons, s.Waybills = s.Persons[:people], s.Waybills[:people]
	out, err := json.Marshal(&s)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// writeFootprintRegistry writes footprintRegistry as JSON to
// dir/registry.json and as block YAML to dir/registry.yaml, and returns
// their paths.
func writeFootprintRegistry(b *testing.B, dir string, people int, version int64, syncedAt time.Time) (jsonFile, yamlFile string) {
	data := footprintRegistry(b, people, version, syncedAt)
	jsonFile = filepath.Join(dir, "registry.json")
	if err := os.WriteFile(jsonFile, data, 0o600); err != nil {
		b.Fatal(err)
	}
	var s registry.Snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		b.Fatal(err)
	}
	var out bytes.Buffer
	if err := yaml.NewEncoder(&out).Encode(&s); err != nil {
		b.Fatal(err)
	}
	yamlFile = filepath.Join(dir, "registry.yaml")
	if err := os.WriteFile(yamlFile, out.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	return jsonFile, yamlFile
}

// BenchmarkFootprintImport measures the peak RSS of `hazgate registry
// import` (the built binary, as an installer runs it) of a registry of
// 10 000 vehicles, 10 000 persons and 10 000 waybills, as JSON and as
// block YAML, into a fresh store (docs/benchmarks.md, "Footprint"; target
// 40 MiB each).
func BenchmarkFootprintImport(b *testing.B) {
	dir := b.TempDir()
	bin := buildHazgate(b, dir)
	wrapper := peakWrapper(b, dir)
	for _, people := range footprintPeople {
		jsonFile, yamlFile := writeFootprintRegistry(b, b.TempDir(), people, 5, time.Now().Add(-time.Minute))
		for _, tc := range []struct{ name, file string }{{"json", jsonFile}, {"yaml", yamlFile}} {
			b.Run(fmt.Sprintf("%s/people=%d", tc.name, people), func(b *testing.B) {
				fi, err := os.Stat(tc.file)
				if err != nil {
					b.Fatal(err)
				}
				var peak float64
				for b.Loop() {
					cmd := exec.Command(bin, "registry", "import", tc.file, "-db", filepath.Join(b.TempDir(), "gate.db"))
					p, out := peakRSS(b, wrapper, cmd)
					if !bytes.Contains(out, []byte("imported into")) {
						b.Fatalf("not imported:\n%s", out)
					}
					peak = max(peak, p)
				}
				b.ReportMetric(float64(fi.Size())/(1<<20), "file_MiB")
				b.ReportMetric(peak, "peak_rss_MiB")
			})
		}
	}
}

// BenchmarkFootprintRun measures the peak RSS of `hazgate run` (the built
// binary, as an installer runs it) whose store holds a registry of 10 000
// vehicles, with 48 persons and 48 waybills or 10 000 of each (imported by
// `hazgate registry import` first), with four lanes configured, the uplink on a
// real Mosquitto and the kiosk serving (docs/benchmarks.md, "Footprint";
// target 40 MiB):
//
//   - run: from exec until the gate is up (the kiosk serving, "online" on
//     the broker), then stopped;
//   - run+snapshot: the same, and then a full snapshot of the registry (10
//     000 vehicles, the next version) published over MQTT in 8 chunks, as
//     the platform sends it, until the gate has imported it.
//
// This machine has no GPIO lines, so the lanes' loops and barriers are in
// fault and no vehicle is inspected: the lanes under load are measured by
// BenchmarkFootprint (`hazgate sim`).
func BenchmarkFootprintRun(b *testing.B) {
	broker := startBroker(b)
	dir := b.TempDir()
	bin := buildHazgate(b, dir)
	wrapper := peakWrapper(b, dir)
	face := httptest.NewServer(&facematchtest.Service{})
	defer face.Close()
	cam := httptest.NewServer(&cameratest.Camera{Username: "hazgate", Password: "secret", Auth: "digest"})
	defer cam.Close()

	for _, people := range footprintPeople {
		jsonFile, _ := writeFootprintRegistry(b, b.TempDir(), people, 5, time.Now().Add(-time.Hour))
		// The snapshot the platform sends: the same registry, the next
		// version.
		snap := footprintRegistry(b, people, 6, time.Now().Add(-time.Minute))
		for _, withSnapshot := range []bool{false, true} {
			name := "run"
			if withSnapshot {
				name = "run+snapshot"
			}
			name += fmt.Sprintf("/people=%d", people)
			b.Run(name, func(b *testing.B) {
				var peak float64
				for i := 0; b.Loop(); i++ {
					d := b.TempDir()
					db := filepath.Join(d, "gate.db")
					if out, err := exec.Command(bin, "registry", "import", jsonFile, "-db", db).CombinedOutput(); err != nil {
						b.Fatalf("import: %v\n%s", err, out)
					}
					gate := fmt.Sprintf("g%d%v%d", people, withSnapshot, i)
					cfg := filepath.Join(d, "hazgate.yaml")
					var lanes strings.Builder
					for l := 1; l <= 4; l++ {
						fmt.Fprintf(&lanes, `  - name: in-%d
    direction: in
    idcard: {port: %s}
    scanner: {port: %s}
    camera: {snapshot_url: %q, username: hazgate, password: secret, auth: digest}
    arrival_loop: {pin: BENCH_%d_ARRIVAL}
    safety_loop: {pin: BENCH_%d_SAFETY}
    barrier: {open_pin: BENCH_%d_OPEN, close_pin: BENCH_%d_CLOSE}
`, l, filepath.Join(d, fmt.Sprintf("reader-%d", l)), filepath.Join(d, fmt.Sprintf("scanner-%d", l)), cam.URL+"/snap.jpg", l, l, l, l)
					}
					yml := fmt.Sprintf("park: p1\ngate: %s\ndatabase: %s\nface_match: {url: %q, timeout: 2s}\nlanes:\n%smqtt: {broker: %q, keepalive: 5s}\nkiosk: {listen: \"127.0.0.1:0\"}\n",
						gate, db, face.URL+"/v1/match", lanes.String(), broker.url())
					if err := os.WriteFile(cfg, []byte(yml), 0o600); err != nil {
						b.Fatal(err)
					}
					root := "hazgate/p1/" + gate
					online := make(chan struct{})
					var onlineOnce sync.Once
					c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(broker.url()).SetClientID(fmt.Sprintf("footprint-%d-%v-%d", people, withSnapshot, i)).SetCleanSession(true))
					if tok := c.Connect(); !tok.WaitTimeout(bound) || tok.Error() != nil {
						b.Fatalf("connect: %v", tok.Error())
					}
					tok := c.Subscribe(root+"/availability", 1, func(_ mqtt.Client, m mqtt.Message) {
						if string(m.Payload()) == "online" {
							onlineOnce.Do(func() { close(online) })
						}
					})
					if !tok.WaitTimeout(bound) || tok.Error() != nil {
						b.Fatalf("subscribe: %v", tok.Error())
					}

					w := exec.Command(wrapper, bin, "run", "-config", cfg)
					out, err := w.StdoutPipe()
					if err != nil {
						b.Fatal(err)
					}
					if err := w.Start(); err != nil {
						b.Fatal(err)
					}
					lines := make(chan string, 1024)
					var log strings.Builder
					go func() {
						defer close(lines)
						sc := bufio.NewScanner(out)
						sc.Buffer(nil, 1<<20)
						for sc.Scan() {
							lines <- sc.Text()
						}
					}()
					await := func(what string, ok func(string) bool) string {
						deadline := time.After(2 * bound)
						for {
							select {
							case l, more := <-lines:
								if !more {
									b.Fatalf("hazgate run ended before %s:\n%s", what, log.String())
								}
								log.WriteString(l + "\n")
								if ok(l) {
									return l
								}
							case <-deadline:
								w.Process.Kill()
								b.Fatalf("no %s within %v:\n%s", what, 2*bound, log.String())
							}
						}
					}
					await("kiosk serving", func(l string) bool { return strings.Contains(l, "kiosk serving") })
					select {
					case <-online:
					case <-time.After(2 * bound):
						w.Process.Kill()
						b.Fatalf("no online on the broker within %v", 2*bound)
					}
					if withSnapshot {
						publishSnapshot(b, c, "hazgate/p1/registry/snapshot", snap, 6, 8)
						await("the snapshot imported", func(l string) bool {
							return strings.Contains(l, "registry snapshot imported") && strings.Contains(l, "version=6")
						})
					}
					c.Disconnect(100)
					w.Process.Signal(syscall.SIGTERM)
					rest := make(chan string)
					go func() {
						var sb strings.Builder
						for l := range lines {
							sb.WriteString(l + "\n")
						}
						rest <- sb.String()
					}()
					var tail string
					select {
					case tail = <-rest:
					case <-time.After(2 * bound):
						w.Process.Kill()
						b.Fatalf("hazgate run did not stop within %v", 2*bound)
					}
					w.Wait()
					var kib int64
					if i := strings.LastIndex(tail, "peak-rss-kib: "); i < 0 {
						b.Fatalf("no peak from the wrapper:\n%s%s", log.String(), tail)
					} else if _, err := fmt.Sscanf(tail[i:], "peak-rss-kib: %d", &kib); err != nil {
						b.Fatal(err)
					}
					peak = max(peak, float64(kib)/1024)
				}
				b.ReportMetric(peak, "peak_rss_MiB")
			})
		}
	}
}

// publishSnapshot publishes the snapshot's JSON in chunks on topic, as the
// platform does (docs/uplink.md, "Registry sync"), at QoS 1.
func publishSnapshot(b *testing.B, c mqtt.Client, topic string, data []byte, version, chunks int64) {
	sum := sha256.Sum256(data)
	size := int64(len(data))
	per := (size + chunks - 1) / chunks
	for i := range chunks {
		part := data[i*per : min(size, (i+1)*per)]
		payload, err := json.Marshal(uplink.SnapshotChunk{Schema: uplink.SchemaRegistrySnapshot, Version: version, Chunk: i, Chunks: chunks,
			SHA256: hex.EncodeToString(sum[:]), Data: base64.StdEncoding.EncodeToString(part)})
		if err != nil {
			b.Fatal(err)
		}
		if tok := c.Publish(topic, 1, false, payload); !tok.WaitTimeout(bound) || tok.Error() != nil {
			b.Fatalf("publish chunk %d: %v", i, tok.Error())
		}
	}
}
