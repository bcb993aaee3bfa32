package config

import (
	"fmt"
	"time"
)

// Update is how `hazgate update` installs a release.
type Update struct {
	// ReleaseKeys are the Ed25519 public keys whose release signatures are
	// trusted, each "ed25519:<base64>" as `hazgate keygen` writes it.
	ReleaseKeys []string `yaml:"release_keys"`
	// RestartCommand restarts the service after the binary is replaced
	// (sh -c; default DefaultRestartCommand).
	RestartCommand string `yaml:"restart_command"`
	// ReadyCommand exits 0 once the restarted service is ready (sh -c;
	// default DefaultReadyCommand).
	ReadyCommand string `yaml:"ready_command"`
	// ReadyWithin bounds the restart and the wait for ReadyCommand before
	// the previous binary is restored (default 90 s, inside the unit's
	// TimeoutStartSec of 120 s).
	ReadyWithin Duration `yaml:"ready_within"`
}

// The update's defaults, for the systemd unit in firmware-config/systemd.
const (
	DefaultRestartCommand = "systemctl restart hazgate.service"
	DefaultReadyCommand   = "systemctl is-active --quiet hazgate.service"
	DefaultReadyWithin    = 90 * time.Second
)

// WithDefaults fills the fields left out.
func (u Update) WithDefaults() Update {
	if u.RestartCommand == "" {
		u.RestartCommand = DefaultRestartCommand
	}
	if u.ReadyCommand == "" {
		u.ReadyCommand = DefaultReadyCommand
	}
	if u.ReadyWithin == 0 {
		u.ReadyWithin = Duration(DefaultReadyWithin)
	}
	return u
}

func (c *Config) validateUpdate(bad func(string, string, ...any)) {
	for i, k := range c.Update.ReleaseKeys {
		if !validEd25519Key(k) {
			bad(fmt.Sprintf("update.release_keys[%d]", i), "%q is not ed25519:<base64 of 32 bytes> as hazgate keygen writes it", k)
		}
	}
	if c.Update.ReadyWithin < 0 {
		bad("update.ready_within", "%v is negative", c.Update.ReadyWithin.D())
	}
}
