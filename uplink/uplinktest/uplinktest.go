// Package uplinktest has a fake of what the uplink needs from the gate: a
// Commander (uplink.Commander) that records the commands it is given.
//
// It imports nothing of ours; only tests import it.
package uplinktest

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// Commander records every command as a line ("open in-1 by alice",
// "lockdown true by alice", "release in-1 INS op reason", "resync",
// "evacuate true by alice") and signals Calls. Err, when set, is returned
// by every command.
type Commander struct {
	mu    sync.Mutex
	Done  []string
	Err   error
	calls chan string
}

func (c *Commander) record(line string) error {
	c.mu.Lock()
	c.Done = append(c.Done, line)
	ch := c.calls
	err := c.Err
	c.mu.Unlock()
	if ch != nil {
		select {
		case ch <- line:
		default:
		}
	}
	return err
}

// Calls returns a channel that receives each command line from now on
// (buffered; a full channel drops).
func (c *Commander) Calls() <-chan string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls = make(chan string, 64)
	}
	return c.calls
}

// Lines returns the commands so far.
func (c *Commander) Lines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.Done...)
}

// Open records "open LANE by BY".
func (c *Commander) Open(_ context.Context, lane, by string) error {
	return c.record(fmt.Sprintf("open %s by %s", lane, by))
}

// Lockdown records "lockdown ON by BY".
func (c *Commander) Lockdown(_ context.Context, on bool, by string) error {
	return c.record(fmt.Sprintf("lockdown %v by %s", on, by))
}

// Release records "release LANE INSPECTION OPERATOR REASON".
func (c *Commander) Release(_ context.Context, lane, inspectionID, operator, reason string) error {
	return c.record(strings.Join([]string{"release", lane, inspectionID, operator, reason}, " "))
}

// Resync records "resync".
func (c *Commander) Resync(context.Context) error { return c.record("resync") }

// Evacuate records "evacuate ON by BY".
func (c *Commander) Evacuate(_ context.Context, on bool, by string) error {
	return c.record(fmt.Sprintf("evacuate %v by %s", on, by))
}
