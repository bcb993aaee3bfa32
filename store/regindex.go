package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/registry"
)

// The whole registry is kept in memory, as one immutable *registry.Index
// behind an atomic pointer: Lookup, on the decision path, does no I/O. The
// tables stay the truth. The index is built from them at Open, and rebuilt
// inside every transaction that changes them (swapIndex), to be swapped in
// only once that transaction has committed. A registry written by another
// process (`hazgate registry import -db` on a running gate's file) is
// noticed by a poll of registry_meta, and loaded, within registryPoll.

// registryPoll is how often the store looks for a registry another process
// wrote into its file.
const registryPoll = time.Second

// registryView is an index with the registry_meta row it was built from.
type registryView struct {
	ix    *registry.Index
	stamp regStamp
}

// regStamp is the registry_meta row; every change to the registry tables
// changes it (the version, the import time), so an equal stamp means an
// equal registry. The zero value is "never imported".
type regStamp struct {
	set                          bool
	version                      int64
	syncedAt, source, importedAt string
}

// querier is a *sql.Tx or a *sql.DB.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// regState is the registry part of a Store.
type regState struct {
	// mu serialises registry writers and reloads, so that indexes are
	// swapped in the order their transactions committed.
	mu   sync.Mutex
	view atomic.Pointer[registryView]
	stop chan struct{}
	done chan struct{}
	// changed is closed, and replaced, when another registry is swapped
	// in after Open (RegistryChanged); guarded by cmu, not mu, so that a
	// reader never waits for a writer's transaction.
	cmu     sync.Mutex
	changed chan struct{}
}

// setView swaps v in and tells whoever waits on RegistryChanged.
func (s *Store) setView(v *registryView) {
	s.reg.view.Store(v)
	s.reg.cmu.Lock()
	if s.reg.changed != nil {
		close(s.reg.changed)
		s.reg.changed = nil
	}
	s.reg.cmu.Unlock()
}

// RegistryChanged returns a channel closed the next time a registry is
// swapped in (an import, a sync, a delta, another process's write noticed
// by the poll). Take a new one after each: it fires once.
func (s *Store) RegistryChanged() <-chan struct{} {
	s.reg.cmu.Lock()
	defer s.reg.cmu.Unlock()
	if s.reg.changed == nil {
		s.reg.changed = make(chan struct{})
	}
	return s.reg.changed
}

// swapIndex is the one way to change the registry tables. It runs change in
// one write transaction; change writes the tables (and registry_meta, see
// regStamp) and returns the index of the registry as it leaves them, given
// the current one (a delta can start from it: Index values are immutable,
// so build a new one; or call loadIndex(ctx, tx) for the whole thing). The
// new index is swapped in only after the commit: a change that fails, or a
// commit that fails, leaves the current index in place, and readers never
// see an index of a registry that is not on disk. Registry changes are
// serialised, so indexes are swapped in commit order.
func (s *Store) swapIndex(ctx context.Context, what string, change func(tx *sql.Tx, cur *registry.Index) (*registry.Index, error)) error {
	s.reg.mu.Lock()
	defer s.reg.mu.Unlock()
	var next *registryView
	err := s.write(ctx, what, func(tx *sql.Tx) error {
		// cur is the registry the tables hold as this transaction begins:
		// the one in memory, unless another process (hazgate registry
		// import) changed the tables since it was loaded; then it is read
		// again here, so that a change derived from it is not derived from
		// a registry that is no longer there.
		view := s.reg.view.Load()
		held, err := readStamp(ctx, tx)
		if err != nil {
			return err
		}
		cur := view.ix
		if held != view.stamp {
			if cur, err = loadIndex(ctx, tx); err != nil {
				return err
			}
		}
		ix, err := change(tx, cur)
		if err != nil {
			return err
		}
		if ix == nil {
			return errors.New("registry change built no index")
		}
		stamp, err := readStamp(ctx, tx)
		if err != nil {
			return err
		}
		next = &registryView{ix: ix, stamp: stamp}
		return nil
	})
	if err != nil {
		return err
	}
	s.setView(next)
	return nil
}

// readStamp reads the registry_meta row.
func readStamp(ctx context.Context, q querier) (regStamp, error) {
	var st regStamp
	err := q.QueryRowContext(ctx, `SELECT version, synced_at, source, imported_at FROM registry_meta WHERE id = 1`).
		Scan(&st.version, &st.syncedAt, &st.source, &st.importedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return regStamp{}, nil
	}
	if err != nil {
		return regStamp{}, fmt.Errorf("registry_meta: %w", err)
	}
	st.set = true
	return st, nil
}

// loadIndex builds the index of the whole registry in the tables, as
// registry.NewIndex builds it from a snapshot: tanks in snapshot order (of
// two on one vehicle the later wins), and a registry never imported is
// empty with a zero Meta. The records' JSON goes into the index as it is
// stored (registry.IndexBuilder): the snapshot is never held decoded.
func loadIndex(ctx context.Context, q querier) (*registry.Index, error) {
	var meta registry.Meta
	var synced time.Time
	var syncedS string
	err := q.QueryRowContext(ctx, `SELECT version, synced_at FROM registry_meta WHERE id = 1`).Scan(&meta.Version, &syncedS)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("registry_meta: %w", err)
	default:
		if synced, err = parseTime(syncedS); err != nil {
			return nil, fmt.Errorf("registry_meta: %w", err)
		}
		meta.SyncedAt = registry.Instant(synced).Start(time.UTC)
	}
	b := registry.NewIndexBuilder()
	if err := loadDocs(ctx, q, b.VehicleJSON, "vehicles", `SELECT doc FROM vehicles`); err != nil {
		return nil, err
	}
	if err := loadDocs(ctx, q, b.TankJSON, "tanks", `SELECT doc FROM tanks ORDER BY pos`); err != nil {
		return nil, err
	}
	if err := loadDocs(ctx, q, b.PersonJSON, "persons", `SELECT doc FROM persons`); err != nil {
		return nil, err
	}
	if err := loadDocs(ctx, q, b.WaybillJSON, "waybills", `SELECT doc FROM waybills`); err != nil {
		return nil, err
	}
	if err := loadAppointments(ctx, q, b); err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT kind, raw_value, reason FROM blacklist`)
	if err != nil {
		return nil, fmt.Errorf("blacklist: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e registry.BlacklistEntry
		if err := rows.Scan(&e.Kind, &e.Value, &e.Reason); err != nil {
			return nil, fmt.Errorf("blacklist: %w", err)
		}
		b.Blacklist(e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("blacklist: %w", err)
	}
	return b.Index(meta), nil
}

// loadDocs hands the JSON records that query returns to add.
func loadDocs[T any](ctx context.Context, q querier, add func([]byte) (T, error), table, query string) error {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	defer rows.Close()
	var doc []byte // RawBytes would alias the driver's buffer; this is reused
	for rows.Next() {
		if err := rows.Scan(&doc); err != nil {
			return fmt.Errorf("%s: %w", table, err)
		}
		if _, err := add(doc); err != nil {
			return fmt.Errorf("stored %s: %w", table, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	return nil
}

// loadView reads the registry and its stamp in one read transaction, so
// that they agree.
func loadView(ctx context.Context, db *sql.DB) (*registryView, error) {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	stamp, err := readStamp(ctx, tx)
	if err != nil {
		return nil, err
	}
	ix, err := loadIndex(ctx, tx)
	if err != nil {
		return nil, err
	}
	return &registryView{ix: ix, stamp: stamp}, nil
}

// startRegistry loads the registry at Open and starts the poll for
// registries written by other processes.
func (s *Store) startRegistry(ctx context.Context) error {
	v, err := loadView(ctx, s.reader)
	if err != nil {
		return fmt.Errorf("store: load registry: %w", err)
	}
	s.reg.view.Store(v)
	s.reg.stop, s.reg.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(s.reg.done)
		t := time.NewTicker(registryPoll)
		defer t.Stop()
		for {
			select {
			case <-s.reg.stop:
				return
			case <-t.C:
				// An error (a busy or closing file) is retried at
				// the next tick; the current index stays.
				s.reloadIfChanged(context.Background())
			}
		}
	}()
	return nil
}

// stopRegistry ends the poll.
func (s *Store) stopRegistry() {
	if s.reg.stop != nil {
		close(s.reg.stop)
		<-s.reg.done
		s.reg.stop = nil
	}
}

// reloadIfChanged reloads the index when registry_meta no longer matches it:
// another process changed the registry. It reports whether it reloaded.
func (s *Store) reloadIfChanged(ctx context.Context) (bool, error) {
	s.reg.mu.Lock()
	defer s.reg.mu.Unlock()
	stamp, err := readStamp(ctx, s.reader)
	if err != nil || stamp == s.reg.view.Load().stamp {
		return false, err
	}
	v, err := loadView(ctx, s.reader)
	if err != nil {
		return false, err
	}
	s.setView(v)
	return true, nil
}

// RegistryMeta returns the registry's version and last sync; zero values
// when nothing was ever imported.
func (s *Store) RegistryMeta(ctx context.Context) (registry.Meta, error) {
	return s.reg.view.Load().ix.Meta(), nil
}

// Lookup returns the registry the checks judge ev against: the index of the
// whole registry, held in memory, so it does no I/O (the error is always
// nil today). The index is immutable and shared by every caller: do not
// modify the slices in the records it returns. It is the registry of the
// last import that committed (or, written by another process, of one
// noticed within registryPoll).
func (s *Store) Lookup(ctx context.Context, ev checks.Evidence) (*registry.Index, error) {
	return s.reg.view.Load().ix, nil
}
