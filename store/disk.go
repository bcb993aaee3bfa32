package store

import (
	"errors"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrFull: the disk (or the file's page limit) is full. The transaction
// was rolled back whole: nothing committed before is lost, and the store
// goes on working once there is room again (a purge frees pages inside
// the file, which new records reuse). A decision that cannot be recorded
// is not carried out: the lane fails secure (record_failed).
var ErrFull = errors.New("the disk is full")

// fullError marks a SQLite SQLITE_FULL error as ErrFull, keeping the
// original in the chain, and wakes the checkpointer (checkpointer.soon).
func (s *Store) fullError(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_FULL && !errors.Is(err, ErrFull) {
		s.ckpt.soon()
		return errors.Join(ErrFull, err)
	}
	return err
}

// SetDiskLow says whether the database's disk is below its free-space
// bound (the appliance watches it): while it is, new status and telemetry
// messages are not queued, so that what room is left goes to records.
func (s *Store) SetDiskLow(low bool) { s.diskLow.Store(low) }

// DiskLow reports what SetDiskLow last said.
func (s *Store) DiskLow() bool { return s.diskLow.Load() }
