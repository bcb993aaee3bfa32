package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/idnumber"
	"github.com/hazgate/hazgate/registry"
)

// t0 is the tests' wall clock.
var t0 = time.Date(2026, 3, 15, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))

func openTest(t testing.TB, opts ...Option) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hazgate.db")
	opts = append([]Option{WithClock(clock.NewFake(t0))}, opts...)
	s, err := Open(context.Background(), path, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// synthID makes a synthetic ID number with a valid check digit from 17
// made-up digits; it belongs to nobody.
func synthID(t testing.TB, first17 string) string {
	t.Helper()
	id, err := idnumber.Complete(first17)
	if err != nil {
		t.Fatalf("idnumber.Complete(%q): %v", first17, err)
	}
	return id
}

// queryInt runs a one-number query on the writer.
func queryInt(t testing.TB, s *Store, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := s.writer.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	known, err := migrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("fresh file gets every migration", func(t *testing.T) {
		s, _ := openTest(t)
		if got := queryInt(t, s, `SELECT count(*) FROM schema_migrations`); got != int64(len(known)) {
			t.Fatalf("schema_migrations has %d rows, want %d", got, len(known))
		}
		if got := queryInt(t, s, `SELECT max(version) FROM schema_migrations`); got != known[len(known)-1].version {
			t.Fatalf("latest version %d, want %d", got, known[len(known)-1].version)
		}
	})

	t.Run("reopening an up-to-date file applies nothing", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "db")
		s, err := Open(ctx, path, WithClock(clock.NewFake(t0)))
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		s, err = Open(ctx, path, WithClock(clock.NewFake(t0.Add(time.Hour))))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if got := queryInt(t, s, `SELECT count(*) FROM schema_migrations WHERE applied_at <> ?`, fmtTime(t0)); got != 0 {
			t.Fatalf("%d migrations re-applied on reopen", got)
		}
	})

	t.Run("file from a newer version is refused", func(t *testing.T) {
		s, path := openTest(t)
		if _, err := s.writer.Exec(`INSERT INTO schema_migrations VALUES (9999, '9999_future.sql', '')`); err != nil {
			t.Fatal(err)
		}
		s.Close()
		_, err := Open(ctx, path)
		if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), "9999_future.sql") {
			t.Fatalf("Open = %v, want ErrNewerSchema naming 9999_future.sql", err)
		}
	})

	t.Run("file with a differently named migration is refused", func(t *testing.T) {
		s, path := openTest(t)
		if _, err := s.writer.Exec(`UPDATE schema_migrations SET name = '0001_other.sql' WHERE version = 1`); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if _, err := Open(ctx, path); !errors.Is(err, ErrNewerSchema) {
			t.Fatalf("Open = %v, want ErrNewerSchema", err)
		}
	})

	t.Run("one transaction per migration", func(t *testing.T) {
		db, err := openDB(ctx, filepath.Join(t.TempDir(), "db"), true)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		ms, err := migrations(fstest.MapFS{
			"migrations/0001_a.sql": {Data: []byte("CREATE TABLE a (x INTEGER);\nINSERT INTO a VALUES (1);")},
			"migrations/0002_b.sql": {Data: []byte("CREATE TABLE b (x INTEGER);\nINSERT INTO nowhere VALUES (1);")},
		})
		if err != nil {
			t.Fatal(err)
		}
		err = applyMigrations(ctx, db, ms, t0)
		if err == nil || !strings.Contains(err.Error(), "0002_b.sql") {
			t.Fatalf("applyMigrations = %v, want an error naming 0002_b.sql", err)
		}
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("recorded migrations = %d (%v), want 1", n, err)
		}
		if err := db.QueryRow(`SELECT count(*) FROM a`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("table a: %d rows (%v), want 1", n, err)
		}
		if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'b'`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("table b exists (%v): the failed migration was not rolled back", err)
		}
	})

	t.Run("bad migration names", func(t *testing.T) {
		for _, name := range []string{"migrations/init.sql", "migrations/0000_zero.sql"} {
			if _, err := migrations(fstest.MapFS{name: {Data: []byte("SELECT 1;")}}); err == nil {
				t.Errorf("migrations accepted %s", name)
			}
		}
	})
}

func TestOpenPragmas(t *testing.T) {
	ctx := context.Background()
	// A name with characters that mean something in a URI.
	dir := filepath.Join(t.TempDir(), "gate #1?x=%20")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "hazgate db.sqlite")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the file is not at its path: %v", err)
	}
	tests := []struct {
		name   string
		pragma string
		writer string
		reader string
	}{
		{"journal mode", "journal_mode", "wal", "wal"},
		{"synchronous FULL", "synchronous", "2", "2"},
		{"foreign keys", "foreign_keys", "1", "1"},
		{"busy timeout", "busy_timeout", "5000", "5000"},
		{"readers are read-only", "query_only", "0", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w, r string
			if err := s.writer.QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&w); err != nil {
				t.Fatal(err)
			}
			if err := s.reader.QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&r); err != nil {
				t.Fatal(err)
			}
			if w != tt.writer || r != tt.reader {
				t.Fatalf("writer %s, reader %s; want %s, %s", w, r, tt.writer, tt.reader)
			}
		})
	}
}

// fixture is a small registry with synthetic people.
type fixture struct {
	snap                  *registry.Snapshot
	driver, escort, other string
}

func newFixture(t testing.TB) fixture {
	f := fixture{
		driver: synthID(t, "11010519800101001"),
		escort: synthID(t, "33020019850202002"),
		other:  synthID(t, "44030019900303003"),
	}
	// Make the driver's number end in X, to test its folding.
	for i := 1; !strings.HasSuffix(f.driver, "X"); i++ {
		f.driver = synthID(t, "110105198001010"+string(rune('0'+i/10))+string(rune('0'+i%10)))
	}
	f.snap = &registry.Snapshot{
		Vehicles: []registry.Vehicle{
			{Plate: "浙B12345", Kind: registry.KindTractor, Carrier: "甬运危货", LicenceValidUntil: registry.Date(2027, 1, 31),
				PermitNo: "330200100001", PermitValidUntil: registry.Date(2027, 6, 30), PermitClasses: []string{"2", "3"},
				InspectionValidUntil: registry.Date(2026, 12, 31), RatedLoadKg: 25000},
			{Plate: "浙B6789挂", Kind: registry.KindTrailer, Carrier: "甬运危货", LicenceValidUntil: registry.Date(2027, 1, 31),
				PermitNo: "330200100002", PermitValidUntil: registry.Date(2027, 6, 30), PermitClasses: []string{"2", "3"},
				InspectionValidUntil: registry.Date(2026, 12, 31), RatedLoadKg: 25000},
			{Plate: "沪A00001", Kind: registry.KindRigid, Carrier: "黑名单物流", PermitClasses: []string{"3"}, RatedLoadKg: 10000},
		},
		Tanks: []registry.Tank{
			{ID: "TK-0001", Vehicle: "浙B6789挂", InspectionValidUntil: registry.Date(2026, 9, 30), Media: []string{"UN1077", "UN1075"}},
			{ID: "TK-0002", Vehicle: "沪A00001", Media: []string{"UN1203"}},
		},
		Persons: []registry.Person{
			{IDNumber: f.driver, Name: "测试甲", CardValidUntil: registry.Date(2036, 1, 1),
				Certificates: []registry.Certificate{{Role: registry.RoleDriver, Number: "330200000001", ValidUntil: registry.Date(2027, 5, 1)}}},
			{IDNumber: f.escort, Name: "测试乙",
				Certificates: []registry.Certificate{{Role: registry.RoleEscort, Number: "330200000002", ValidUntil: registry.Date(2027, 5, 1)}}},
			{IDNumber: f.other, Name: "测试丙"},
		},
		Waybills: []registry.Waybill{{
			Number: "YD3302002603150001", Vehicle: "浙B12345", Trailer: "浙B6789挂", Driver: f.driver, Escort: f.escort,
			Carrier:   "甬运危货",
			ValidFrom: registry.Instant(t0.Add(-9 * time.Hour)), ValidUntil: registry.Instant(t0.Add(15 * time.Hour)),
			Goods: []registry.Good{{UN: "UN1077", Name: "丙烯", Class: "2.1", QuantityKg: 24000}},
		}},
		Blacklist: []registry.BlacklistEntry{
			{Kind: registry.BlacklistVehicle, Value: "沪a 00001", Reason: "逃避检查"},
			{Kind: registry.BlacklistPerson, Value: f.other, Reason: "违规"},
			{Kind: registry.BlacklistCarrier, Value: "黑名单物流", Reason: "吊销"},
		},
	}
	return f
}

// evidence is what a compliant arrival presents, with plates written the
// way a camera or an operator might.
func (f fixture) evidence() checks.Evidence {
	face := 0.93
	return checks.Evidence{
		Lane: "in-1", Arrived: t0, Plate: "浙Ｂ １２３４５", Trailer: "浙b6789挂",
		Driver:  &checks.PersonEvidence{IDNumber: strings.ToLower(f.driver), Name: "测试甲", Face: &face},
		Escort:  &checks.PersonEvidence{IDNumber: f.escort, Name: "测试乙"},
		Waybill: "YD3302002603150001",
	}
}
