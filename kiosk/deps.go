package kiosk

import (
	"context"
	"time"

	"github.com/hazgate/hazgate/health"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/store"
)

// Lanes is the gate's lanes as the kiosk sees them (lanes.Set).
type Lanes interface {
	// Snapshots returns every lane's current view, in display order.
	Snapshots() []lane.Snapshot
	// Send queues an event for the lane with this name; it reports
	// false when there is no such lane. It must not block.
	Send(name string, e lane.Event) bool
	// Lockdown locks every lane down, or lifts it; by is who. lanes.Set
	// records it first, so that it outlives a restart, and fails secure
	// when it cannot.
	Lockdown(ctx context.Context, on bool, by string) error
	// EvacuateAtKiosk starts or ends the gate's evacuation for a
	// supervisor at the kiosk (by: who); lanes.Set records it first and
	// refuses to end an evacuation the office started.
	EvacuateAtKiosk(ctx context.Context, on bool, by string) error
	// Evacuation is the gate's evacuation now, with who may end it.
	Evacuation() store.EvacuationState
}

// Records is the history the kiosk reads.
type Records interface {
	ListInspections(ctx context.Context, f store.Filter) ([]store.Inspection, error)
	GetInspection(ctx context.Context, id string) (*store.Inspection, error)
	Decisions(ctx context.Context, inspectionID string) ([]store.Decision, error)
	AuditFor(ctx context.Context, subject string) ([]store.AuditEntry, error)
	VerifyAudit(ctx context.Context) error
}

// Auditor appends to the audit log.
type Auditor interface {
	Audit(ctx context.Context, actor, action, subject string, detail any, at time.Time) error
}

// Accounts looks up kiosk accounts; an unknown name is an error matching
// store.ErrNotFound.
type Accounts interface {
	Operator(ctx context.Context, name string) (store.Operator, error)
}

// Unlocker clears an account's sign-in lockouts (store.UnlockOperator).
type Unlocker interface {
	UnlockOperator(ctx context.Context, name, actor, reason string, at time.Time) error
}

// Store is what the kiosk needs of the gate's store.
type Store interface {
	Records
	Auditor
	Accounts
	Unlocker
}

var _ Store = (*store.Store)(nil)

// DeviceHealth reports the devices (a *lanes.Set does).
type DeviceHealth interface {
	Devices() []health.Device
}

// BrokerStatus is the MQTT connection's health.
type BrokerStatus struct {
	URL       string    `json:"url"`
	Connected bool      `json:"connected"`
	Since     time.Time `json:"since,omitzero"` // when it connected or dropped
	LastError string    `json:"last_error,omitempty"`
}

// BrokerHealth reports the MQTT connection.
type BrokerHealth interface {
	Broker() BrokerStatus
}

// BrokerFunc adapts a func to BrokerHealth (the uplink's Connection, for
// one).
type BrokerFunc func() BrokerStatus

// Broker calls f.
func (f BrokerFunc) Broker() BrokerStatus { return f() }

// DevicesFunc adapts a func to DeviceHealth.
type DevicesFunc func() []health.Device

// Devices calls f.
func (f DevicesFunc) Devices() []health.Device { return f() }

// OutboxHealth reports the outbox (a *store.Store does).
type OutboxHealth interface {
	OutboxStats(ctx context.Context) (depth int, oldest time.Time, err error)
}

// RegistryHealth reports the registry's version and last sync (a
// *store.Store does).
type RegistryHealth interface {
	RegistryMeta(ctx context.Context) (registry.Meta, error)
}

var (
	_ OutboxHealth   = (*store.Store)(nil)
	_ RegistryHealth = (*store.Store)(nil)
)

// DiskStatus is the free space where the database lives.
type DiskStatus struct {
	Path  string `json:"path"`
	Free  uint64 `json:"free_bytes"`
	Total uint64 `json:"total_bytes"`
}

// DiskHealth reports disk space.
type DiskHealth interface {
	Disk() (DiskStatus, error)
}

// DiskAt reports the space of the file system holding path (the database's
// directory).
type DiskAt string

var _ DiskHealth = DiskAt("")

// Disk returns the file system's free (to unprivileged users) and total
// bytes.
func (p DiskAt) Disk() (DiskStatus, error) {
	free, total, err := statfs(string(p))
	if err != nil {
		return DiskStatus{Path: string(p)}, err
	}
	return DiskStatus{Path: string(p), Free: free, Total: total}, nil
}
