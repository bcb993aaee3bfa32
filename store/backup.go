package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// GateIdentity is the gate a database belongs to: its park and gate names
// from the configuration `hazgate run` started with.
type GateIdentity struct {
	Park, Gate string
}

func (g GateIdentity) String() string {
	if g.Park == "" && g.Gate == "" {
		return "no gate recorded"
	}
	return g.Park + "/" + g.Gate
}

// SetGateIdentity records which gate the database belongs to (hazgate run,
// at every start) and returns the one recorded before (zero when none).
func (s *Store) SetGateIdentity(ctx context.Context, id GateIdentity, at time.Time) (prev GateIdentity, err error) {
	if id.Park == "" || id.Gate == "" {
		return prev, fmt.Errorf("store: set gate identity: %w: park and gate are required", ErrInvalid)
	}
	err = s.write(ctx, "set gate identity", func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT park, gate FROM gate_identity WHERE one = 1`).Scan(&prev.Park, &prev.Gate)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if prev == id {
			return nil
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO gate_identity (one, park, gate, at) VALUES (1, ?, ?, ?)
			ON CONFLICT (one) DO UPDATE SET park = excluded.park, gate = excluded.gate, at = excluded.at`,
			id.Park, id.Gate, fmtTime(at))
		return err
	})
	return prev, err
}

// GateIdentity returns the gate the database belongs to; zero when no
// `hazgate run` has recorded one.
func (s *Store) GateIdentity(ctx context.Context) (GateIdentity, error) {
	id, err := gateIdentity(ctx, s.reader)
	if err != nil {
		return id, fmt.Errorf("store: gate identity: %w", err)
	}
	return id, nil
}

type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func gateIdentity(ctx context.Context, q rowQuerier) (GateIdentity, error) {
	var id GateIdentity
	var n int
	// A file from before migration 14 has no table: no gate recorded.
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'gate_identity'`).Scan(&n); err != nil || n == 0 {
		return id, err
	}
	err := q.QueryRowContext(ctx, `SELECT park, gate FROM gate_identity WHERE one = 1`).Scan(&id.Park, &id.Gate)
	if errors.Is(err, sql.ErrNoRows) {
		return id, nil
	}
	return id, err
}

// FileReport is what VerifyFile found in a database file.
type FileReport struct {
	Path string
	Gate GateIdentity
	// AuditEntries is how many audit entries were verified, chain and
	// hashes.
	AuditEntries int64
	// Rows counts the records, by table (countedTables).
	Rows map[string]int64
}

// countedTables are the records a backup is checked by: rows a running
// gate only ever adds.
var countedTables = []string{"inspections", "passages", "decisions", "alarms", "audit"}

// openFile opens an existing database file for reading, without creating
// it nor migrating it.
func openFile(ctx context.Context, path string) (*sql.DB, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("store: %s does not exist", path)
		}
		return nil, fmt.Errorf("store: %s cannot be read: %w", path, err)
	}
	q := url.Values{}
	q.Set("mode", "rw") // never create
	q.Add("_pragma", "busy_timeout(5000)")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %s cannot be opened as a database: %w", path, err)
	}
	return db, nil
}

// VerifyAuditFile walks the audit chain of the database file at path (a
// running gate's too) and returns how many entries verified; a broken
// chain is an *AuditError naming the first entry that does not verify.
func VerifyAuditFile(ctx context.Context, path string) (int64, error) {
	db, err := openFile(ctx, path)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return 0, fmt.Errorf("store: verify audit: %w", err)
	}
	defer tx.Rollback()
	return verifyAudit(ctx, tx)
}

// VerifyFile checks the database file at path: SQLite's integrity check,
// the audit chain, and counts its records; it also says which gate it
// belongs to. Everything is read in one transaction.
func VerifyFile(ctx context.Context, path string) (FileReport, error) {
	r := FileReport{Path: path, Rows: map[string]int64{}}
	db, err := openFile(ctx, path)
	if err != nil {
		return r, err
	}
	defer db.Close()
	var ok string
	if err := db.QueryRowContext(ctx, `PRAGMA integrity_check(1)`).Scan(&ok); err != nil {
		return r, fmt.Errorf("store: %s: integrity check: %w", path, err)
	}
	if ok != "ok" {
		return r, fmt.Errorf("store: %s is damaged: SQLite's integrity check says %q", path, ok)
	}
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return r, fmt.Errorf("store: %s: %w", path, err)
	}
	defer tx.Rollback()
	if r.AuditEntries, err = verifyAudit(ctx, tx); err != nil {
		return r, fmt.Errorf("store: %s: %w", path, err)
	}
	if r.Rows, err = countRows(ctx, tx); err != nil {
		return r, fmt.Errorf("store: %s: %w", path, err)
	}
	if r.Gate, err = gateIdentity(ctx, tx); err != nil {
		return r, fmt.Errorf("store: %s: gate identity: %w", path, err)
	}
	return r, nil
}

func countRows(ctx context.Context, q rowQuerier) (map[string]int64, error) {
	out := map[string]int64{}
	for _, t := range countedTables {
		var n int64
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM `+t).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s: %w", t, err)
		}
		out[t] = n
	}
	return out, nil
}

// Backup copies the database file from (a running gate's too: it reads
// one consistent snapshot, with VACUUM INTO, and holds no write lock) into
// the new file to, then verifies the copy (VerifyFile) and that it holds
// at least the records from had before the copy began and no more than
// after it ended. It never overwrites a file; a copy that does not verify
// is removed.
func Backup(ctx context.Context, from, to string) (FileReport, error) {
	if _, err := os.Lstat(to); err == nil {
		return FileReport{}, fmt.Errorf("store: backup: %s already exists: a backup never overwrites a file", to)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return FileReport{}, fmt.Errorf("store: backup: %s: %w", to, err)
	}
	src, err := openFile(ctx, from)
	if err != nil {
		return FileReport{}, err
	}
	defer src.Close()
	before, err := countRows(ctx, src)
	if err != nil {
		return FileReport{}, fmt.Errorf("store: backup: %s: %w", from, err)
	}
	if _, err := src.ExecContext(ctx, `VACUUM INTO ?`, to); err != nil {
		os.Remove(to)
		return FileReport{}, fmt.Errorf("store: backup: copying %s into %s: %w", from, to, err)
	}
	after, err := countRows(ctx, src)
	if err != nil {
		os.Remove(to)
		return FileReport{}, fmt.Errorf("store: backup: %s: %w", from, err)
	}
	r, err := VerifyFile(ctx, to)
	if err == nil {
		for _, t := range countedTables {
			if n := r.Rows[t]; n < before[t] || n > after[t] {
				err = fmt.Errorf("store: backup: the copy has %d %s, the database had %d before and %d after the copy", n, t, before[t], after[t])
				break
			}
		}
	}
	if err == nil {
		err = syncFile(to)
	}
	if err != nil {
		os.Remove(to)
		return r, fmt.Errorf("%w (the copy was removed)", err)
	}
	return r, nil
}

// InUse reports whether a process has the database file at path open
// (a running gate): SQLite holds a lock on byte 128 of the shared-memory
// file of a WAL database (its -shm) for as long as it has it open. It
// reads the kernel's lock table (/proc/locks) rather than testing the
// lock: opening and closing the -shm would drop this process's own
// SQLite locks on it. This process's own connections count too.
func InUse(path string) (bool, error) {
	fi, err := os.Stat(path + "-shm")
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: %s-shm: %w", path, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false, fmt.Errorf("store: %s-shm: no inode", path)
	}
	locks, err := os.ReadFile("/proc/locks")
	if err != nil {
		return false, fmt.Errorf("store: the kernel's lock table: %w", err)
	}
	dev := uint64(st.Dev) // uint32 on some platforms
	file := fmt.Sprintf("%02x:%02x:%d", unix.Major(dev), unix.Minor(dev), st.Ino)
	for line := range strings.Lines(string(locks)) {
		// "1: POSIX  ADVISORY  READ 6514 fe:00:10134585 128 128"; a
		// blocked request ("1: -> POSIX ...") has one field more.
		f := strings.Fields(line)
		if len(f) < 8 || f[len(f)-3] != file {
			continue
		}
		lo, hi := f[len(f)-2], f[len(f)-1]
		start, err1 := strconv.ParseInt(lo, 10, 64)
		end, err2 := strconv.ParseInt(hi, 10, 64)
		if hi == "EOF" {
			end, err2 = math.MaxInt64, nil
		}
		if err1 == nil && err2 == nil && start <= 128 && 128 <= end {
			return true, nil
		}
	}
	return false, nil
}

// RestoreOptions are what Restore may be told to override.
type RestoreOptions struct {
	// Force restores a backup of another gate (or one that does not
	// say). Nothing restores over a database a running gate has open: the
	// gate would go on writing to the file replaced, and lose it.
	Force bool
}

// Restore replaces the database file to with the backup from, after
// verifying the backup (VerifyFile). It refuses a database a running gate
// has open (InUse), and, unless forced, a backup whose gate differs from
// the one the database belongs to. The new file is written beside the
// database, synced, its stale -wal and -shm removed, and renamed over it:
// at every moment the path holds one whole database.
func Restore(ctx context.Context, from, to string, opt RestoreOptions) (FileReport, error) {
	r, err := VerifyFile(ctx, from)
	if err != nil {
		return r, fmt.Errorf("store: restore: the backup does not verify: %w", err)
	}
	if _, err := os.Stat(to); err == nil {
		busy, err := InUse(to)
		if err != nil {
			return r, err
		}
		if busy {
			return r, fmt.Errorf("store: restore: %s is open by a running gate: stop it first (systemctl stop hazgate)", to)
		}
		if !opt.Force {
			cur, err := fileGate(ctx, to)
			if err != nil {
				return r, fmt.Errorf("store: restore: cannot tell which gate %s belongs to (-force to restore anyway): %w", to, err)
			}
			if cur != (GateIdentity{}) && cur != r.Gate {
				return r, fmt.Errorf("store: restore: the backup is of %s, the database belongs to %s: refused (-force to restore anyway)", r.Gate, cur)
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return r, fmt.Errorf("store: restore: %s: %w", to, err)
	}
	tmp := to + ".restoring"
	if err := copyFile(from, tmp); err != nil {
		os.Remove(tmp)
		return r, fmt.Errorf("store: restore: writing %s: %w", tmp, err)
	}
	for _, stale := range []string{to + "-wal", to + "-shm"} {
		if err := os.Remove(stale); err != nil && !errors.Is(err, fs.ErrNotExist) {
			os.Remove(tmp)
			return r, fmt.Errorf("store: restore: removing %s: %w", stale, err)
		}
	}
	if err := os.Rename(tmp, to); err != nil {
		os.Remove(tmp)
		return r, fmt.Errorf("store: restore: %w", err)
	}
	if err := syncFile(filepath.Dir(to)); err != nil {
		return r, fmt.Errorf("store: restore: %w", err)
	}
	r.Path = to
	return r, nil
}

func fileGate(ctx context.Context, path string) (GateIdentity, error) {
	db, err := openFile(ctx, path)
	if err != nil {
		return GateIdentity{}, err
	}
	defer db.Close()
	return gateIdentity(ctx, db)
}

// copyFile writes a new file to with from's bytes and syncs it.
func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// syncFile fsyncs a file or a directory.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
