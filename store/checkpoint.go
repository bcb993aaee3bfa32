package store

import (
	"database/sql"
	"sync"
)

// checkpointEvery is how many write transactions pass between checkpoints:
// about a thousand pages of log (an inspection writes about six, and its
// follow-up about seven).
const checkpointEvery = 128

// checkpointer folds the write-ahead log back into the database file on a
// read connection, after every checkpointEvery writes, so that the commits
// the barrier waits for never do it themselves. A PASSIVE checkpoint does
// not block the writer or readers; one that cannot finish is simply retried
// after the next writes.
type checkpointer struct {
	db   *sql.DB
	kick chan struct{}
	done chan struct{}

	mu      sync.Mutex
	writes  int
	stopped bool
}

func startCheckpointer(db *sql.DB) *checkpointer {
	c := &checkpointer{db: db, kick: make(chan struct{}, 1), done: make(chan struct{})}
	go c.run()
	return c
}

func (c *checkpointer) run() {
	defer close(c.done)
	for range c.kick {
		// Errors (SQLITE_BUSY, a closing database) are not worth
		// reporting: the log stays, and the next round retries.
		c.db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
	}
}

// wrote counts a committed write and wakes the checkpointer every
// checkpointEvery of them.
func (c *checkpointer) wrote() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return
	}
	c.writes++
	if c.writes%checkpointEvery == 0 {
		select {
		case c.kick <- struct{}{}:
		default: // one is already pending
		}
	}
}

// stop ends the goroutine after any checkpoint in progress.
func (c *checkpointer) stop() {
	c.mu.Lock()
	if !c.stopped {
		c.stopped = true
		close(c.kick)
	}
	c.mu.Unlock()
	<-c.done
}

// soon wakes the checkpointer now: after a write failed on a full disk,
// a log folded into the file is started again from its beginning by the
// next write, which then needs no new room for it.
func (c *checkpointer) soon() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return
	}
	select {
	case c.kick <- struct{}{}:
	default:
	}
}
