package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// The outbox benchmarks measure the uplink's side of the store per row:
// reading pending rows and marking them sent, on rows of a realistic size
// (1.3 kB inspection payloads). See docs/benchmarks.md, "MQTT uplink".

// payload1300 is a payload of about 1.3 kB, an inspection's size.
var payload1300 = json.RawMessage(`{"schema":"hazgate.inspection/1","pad":"` + strings.Repeat("x", 1250) + `"}`)

// fillOutbox writes n events of about 1.3 kB, 64 to a commit.
func fillOutbox(b *testing.B, s *Store, n int) {
	b.Helper()
	ctx := context.Background()
	for i := 0; i < n; i += 64 {
		msgs := make([]OutboxMessage, min(64, n-i))
		for j := range msgs {
			msgs[j] = OutboxMessage{Kind: KindInspection, Topic: "events/inspection", Lane: "in-1", Payload: payload1300}
		}
		if err := s.Enqueue(ctx, t0, msgs...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOutboxMarkSent: ns/op is per row, marked in batches of 512
// consecutive seqs (about what the uplink gathers in 20 ms at full speed).
func BenchmarkOutboxMarkSent(b *testing.B) {
	ctx := context.Background()
	s, _ := openTest(b)
	fillOutbox(b, s, b.N)
	if _, err := s.writer.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	batch := make([]int64, 0, 512)
	b.ResetTimer()
	for first := int64(1); first <= int64(b.N); first += 512 {
		batch = batch[:0]
		for seq := first; seq <= min(first+511, int64(b.N)); seq++ {
			batch = append(batch, seq)
		}
		if err := s.MarkSent(ctx, batch...); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if depth, _, err := s.OutboxStats(ctx); err != nil || depth != 0 {
		b.Fatalf("depth %d (%v) after marking every row", depth, err)
	}
}

// BenchmarkOutboxPending: ns/op is per row, read limit at a time from a
// cursor, as the uplink's drain reads them.
func BenchmarkOutboxPending(b *testing.B) {
	for _, limit := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("limit=%d", limit), func(b *testing.B) {
			ctx := context.Background()
			s, _ := openTest(b)
			fillOutbox(b, s, b.N)
			b.ResetTimer()
			var cursor int64
			for got := 0; got < b.N; {
				rows, err := s.PendingOutbox(ctx, cursor, limit)
				if err != nil {
					b.Fatal(err)
				}
				if len(rows) == 0 {
					b.Fatalf("only %d of %d rows read", got, b.N)
				}
				got += len(rows)
				cursor = rows[len(rows)-1].Seq
			}
		})
	}
}
