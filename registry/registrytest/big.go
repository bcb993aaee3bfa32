package registrytest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/hazgate/hazgate/idnumber"
	"github.com/hazgate/hazgate/registry"
)

// BigID is the n-th synthetic ID number of a large registry (region
// 990001, belonging to nobody), for n below 10^7.
func BigID(n int) string {
	id, err := idnumber.Complete(fmt.Sprintf("9900011980%07d", n))
	if err != nil {
		panic(err)
	}
	return id
}

// BigPlate is the n-th plate of a large registry, for n below 2.6 million.
func BigPlate(n int) string {
	return fmt.Sprintf("浙%c%05d", 'A'+rune(n/100000), n%100000)
}

// WriteBig writes a valid registry snapshot of about size bytes of JSON to
// w, one record at a time (it is never held whole): vehicles, persons and
// waybills in equal numbers, each waybill naming its vehicle and person.
// It returns the number of each.
func WriteBig(w io.Writer, size int, version int64, syncedAt time.Time) (int, error) {
	bw := bufio.NewWriter(w)
	// About 775 bytes of JSON for one of each.
	n := max(1, size/775)
	enc := func(v any) error {
		b, err := json.Marshal(v)
		if err == nil {
			_, err = bw.Write(b)
		}
		return err
	}
	list := func(name string, last bool, rec func(i int) any) error {
		fmt.Fprintf(bw, "%q:[", name)
		for i := range n {
			if i > 0 {
				bw.WriteByte(',')
			}
			if err := enc(rec(i)); err != nil {
				return err
			}
		}
		if last {
			_, err := bw.WriteString("]")
			return err
		}
		_, err := bw.WriteString("],")
		return err
	}
	fmt.Fprintf(bw, `{"version":%d,"synced_at":%q,`, version, syncedAt.UTC().Format(time.RFC3339))
	if err := list("vehicles", false, func(i int) any {
		v := Vehicle(BigPlate(i))
		v.Carrier = fmt.Sprintf("宁波危化运输有限公司%04d", i%5000)
		return v
	}); err != nil {
		return 0, err
	}
	if err := list("persons", false, func(i int) any {
		return registry.Person{IDNumber: BigID(i), Name: "测试人员", Address: "浙江省宁波市镇海区测试路1号",
			Certificates: []registry.Certificate{{Role: registry.RoleDriver, Number: fmt.Sprintf("DG-%07d", i), ValidUntil: registry.Date(2028, 5, 1)}}}
	}); err != nil {
		return 0, err
	}
	if err := list("waybills", true, func(i int) any {
		w := Waybill(fmt.Sprintf("WB-%08d", i))
		w.Vehicle, w.Driver, w.Escort = BigPlate(i), BigID(i), BigID((i+1)%n)
		return w
	}); err != nil {
		return 0, err
	}
	fmt.Fprint(bw, `,"tanks":[],"blacklist":[]}`)
	return n, bw.Flush()
}

// PeakRSS returns the peak and the current resident set size of this
// process in bytes (VmHWM and VmRSS in /proc/self/status, Linux).
func PeakRSS() (peak, now int64, err error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		var kb int64
		if _, e := fmt.Sscanf(l, "VmHWM: %d kB", &kb); e == nil {
			peak = kb << 10
		}
		if _, e := fmt.Sscanf(l, "VmRSS: %d kB", &kb); e == nil {
			now = kb << 10
		}
	}
	if peak == 0 || now == 0 {
		return 0, 0, fmt.Errorf("no VmHWM or VmRSS in /proc/self/status")
	}
	return peak, now, nil
}

// ResetPeakRSS starts VmHWM again from the current RSS (Linux 4.0 and
// later), so that a peak measured after it is that of what follows.
func ResetPeakRSS() error {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}
