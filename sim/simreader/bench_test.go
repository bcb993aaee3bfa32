package simreader_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/hazgate/hazgate/device/idcard"
	"github.com/hazgate/hazgate/device/serialport"
	"github.com/hazgate/hazgate/sim/simreader"
)

// BenchmarkCardRead measures one card read through the driver (find, select,
// read text and photo, added address) on a pty, with the simulated reader
// pacing every byte at 115200 baud 8N1, and reports it as a ratio to the
// wire time of the same frames in both directions: the physical limit.
//
//	go test -run '^$' -bench CardRead -benchtime 30x ./sim/simreader/
func BenchmarkCardRead(b *testing.B) {
	const baud = 115200
	r, err := simreader.New(filepath.Join(b.TempDir(), "idcard"))
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	r.Fake().SetBaud(baud)
	port, err := serialport.Open(r.Path(), baud)
	if err != nil {
		b.Fatal(err)
	}
	dev := idcard.New(port, idcard.Options{Baud: baud})
	defer dev.Close()
	c := card("990001198001010019")
	ctx := context.Background()
	// The frames of one read: four requests of 10 bytes; find 15, select 19,
	// read 1295 and "no added address" 11 bytes back.
	wire := idcard.WireTime(4*10+15+19+1295+11, baud)
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		r.Present(c)
		b.StartTimer()
		start := time.Now()
		found, err := dev.Find(ctx)
		if err != nil || !found {
			b.Fatalf("find: %v %v", found, err)
		}
		if err := dev.Select(ctx); err != nil {
			b.Fatal(err)
		}
		got, err := dev.Read(ctx, false)
		if err != nil || got.IDNumber != c.IDNumber {
			b.Fatalf("read: %v", err)
		}
		if _, err := dev.AddedAddress(ctx); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
	}
	per := total / time.Duration(b.N)
	b.ReportMetric(float64(per.Microseconds())/1000, "ms/read")
	b.ReportMetric(float64(wire.Microseconds())/1000, "ms_wire")
	b.ReportMetric(float64(per)/float64(wire), "x_wire")
}
