package uplink

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// The signed command envelope (docs/uplink.md "Commands"):
//
//	{"payload": base64(C), "key": "ed25519:<base64 public key>", "sig": base64(Ed25519(key, SignDomain + C))}
//
// where C is the JSON of a Command, signed and verified as the exact bytes
// that "payload" carries, so that no re-encoding can change what was
// signed.

// SignDomain is prepended to the payload bytes before signing, so that a
// command signature cannot be taken for a signature of anything else.
const SignDomain = "hazgate.cmd/1\n"

// Command names.
const (
	CmdOpen     = "open"
	CmdLockdown = "lockdown"
	CmdRelease  = "release"
	CmdResync   = "resync"
	CmdEvacuate = "evacuate"
)

// Envelope is what arrives on <root>/cmd/<name>.
type Envelope struct {
	Payload string `json:"payload"` // standard base64 of the Command JSON
	Key     string `json:"key"`     // "ed25519:<standard base64 of the public key>"
	Sig     string `json:"sig"`     // standard base64 of the signature
}

// Command is the signed content.
type Command struct {
	V         int             `json:"v"`                // 1
	Name      string          `json:"name"`             // open, lockdown, release, resync, evacuate: the topic's <name>
	Target    string          `json:"target,omitempty"` // the gate's topic root; "" = any gate (lockdown, evacuate and resync only)
	Args      json.RawMessage `json:"args,omitempty"`   // the command's arguments
	Nonce     string          `json:"nonce"`            // 16-64 characters, never used twice
	IssuedAt  time.Time       `json:"issued_at"`
	ExpiresAt time.Time       `json:"expires_at"`
	By        string          `json:"by"` // who in the safety office gave it
}

// Reasons a command is refused (the detail of its command_refused alarm).
const (
	RefuseUnsigned     = "unsigned"
	RefuseMalformed    = "malformed"
	RefuseUntrusted    = "untrusted_key"
	RefuseBadSignature = "bad_signature"
	RefuseWrongName    = "name_mismatch"
	RefuseWrongTarget  = "wrong_target"
	RefuseNotYetValid  = "not_yet_valid"
	RefuseExpired      = "expired"
	RefuseTTL          = "validity_too_long"
	RefuseReplayed     = "replayed"
	RefuseUnknown      = "unknown_command"
	RefuseBadArgs      = "bad_args"
	RefuseNoCommander  = "not_supported"
	RefuseOverload     = "overloaded"
)

// RefusedError says why a command was refused.
type RefusedError struct {
	Reason string // one of the Refuse* codes
	Detail string
}

func (e *RefusedError) Error() string {
	if e.Detail == "" {
		return "uplink: command refused: " + e.Reason
	}
	return "uplink: command refused: " + e.Reason + ": " + e.Detail
}

func refuse(reason, format string, args ...any) *RefusedError {
	return &RefusedError{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// PublicKeyString is the text form of a public key: "ed25519:<base64>".
func PublicKeyString(pub ed25519.PublicKey) string {
	return "ed25519:" + base64.StdEncoding.EncodeToString(pub)
}

// ParsePublicKey reads the text form of a public key.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b64, ok := strings.CutPrefix(strings.TrimSpace(s), "ed25519:")
	if !ok {
		return nil, fmt.Errorf("uplink: key %q: want ed25519:<base64>", s)
	}
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("uplink: key %q: not the base64 of a 32-byte Ed25519 public key", s)
	}
	return ed25519.PublicKey(b), nil
}

// MarshalPrivateKey writes a private key as a PKCS #8 PEM block.
func MarshalPrivateKey(priv ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("uplink: private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParsePrivateKey reads a PKCS #8 PEM Ed25519 private key.
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	blk, _ := pem.Decode(data)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, errors.New("uplink: private key: no PEM PRIVATE KEY block")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("uplink: private key: %w", err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("uplink: private key: %T is not Ed25519", k)
	}
	return priv, nil
}

// NewNonce returns a random 128-bit nonce in hex.
func NewNonce() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Sign returns the envelope of c signed with priv, as JSON. A zero V is set
// to 1.
func Sign(priv ed25519.PrivateKey, c Command) ([]byte, error) {
	if c.V == 0 {
		c.V = 1
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("uplink: sign: %w", err)
	}
	return json.Marshal(signEnvelope(priv, SignDomain, payload))
}

// keyring is the set of trusted public keys, by their text form.
type keyring struct{ keys map[string]ed25519.PublicKey }

func parseKeyring(field string, keys []string) (*keyring, error) {
	kr := &keyring{keys: map[string]ed25519.PublicKey{}}
	for i, k := range keys {
		pub, err := ParsePublicKey(k)
		if err != nil {
			return nil, fmt.Errorf("uplink: %s[%d]: %w", field, i, err)
		}
		kr.keys[PublicKeyString(pub)] = pub
	}
	return kr, nil
}

// verifyPolicy is what verify checks a command against.
type verifyPolicy struct {
	name, root string
	now        time.Time
	skew, ttl  time.Duration
	floor      time.Time // commands issued before it are refused (zero: none)
	// unsynced: the gate's clock is not known to be right, so the
	// command's times are not judged against it; pruned is the nonce
	// cache's (command_clock.go).
	unsynced bool
	pruned   time.Time
}

// verify checks an envelope's signature, name, target and times; it does
// not check the nonce (the cache does). It returns the command and the
// signing key's text form.
func (kr *keyring) verify(data []byte, p verifyPolicy) (*Command, string, error) {
	var env Envelope
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		// Whatever it is, it does not carry a signature we can read.
		var plain map[string]any
		if json.Unmarshal(data, &plain) == nil && plain["sig"] == nil {
			return nil, "", refuse(RefuseUnsigned, "no signed envelope")
		}
		return nil, "", refuse(RefuseMalformed, "envelope: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		// One envelope per message: what follows it was not checked.
		return nil, "", refuse(RefuseMalformed, "envelope: more after the envelope")
	}
	payload, _, rerr := kr.open(env, SignDomain)
	if rerr != nil {
		return nil, env.Key, rerr
	}
	var c Command
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, env.Key, refuse(RefuseMalformed, "payload: %v", err)
	}
	switch {
	case c.V != 1:
		return &c, env.Key, refuse(RefuseMalformed, "version %d", c.V)
	case c.Name != p.name:
		return &c, env.Key, refuse(RefuseWrongName, "signed for %q, arrived on cmd/%s", c.Name, p.name)
	case c.Target != "" && c.Target != p.root:
		return &c, env.Key, refuse(RefuseWrongTarget, "signed for %q, this gate is %q", c.Target, p.root)
	}
	if err := checkShape(&c, p.ttl); err != nil {
		return &c, env.Key, err
	}
	if p.unsynced {
		return &c, env.Key, verifyUnsynced(&c, p)
	}
	switch {
	case c.IssuedAt.After(p.now.Add(p.skew)):
		return &c, env.Key, refuse(RefuseNotYetValid, "issued at %s, now %s", c.IssuedAt.Format(time.RFC3339), p.now.Format(time.RFC3339))
	case !p.now.Before(c.ExpiresAt.Add(p.skew)):
		return &c, env.Key, refuse(RefuseExpired, "expired at %s, now %s", c.ExpiresAt.Format(time.RFC3339), p.now.Format(time.RFC3339))
	case !p.floor.IsZero() && c.IssuedAt.Before(p.floor):
		return &c, env.Key, refuse(RefuseReplayed, "issued before %s, when the nonce cache was lost", p.floor.Format(time.RFC3339))
	}
	return &c, env.Key, nil
}

// DefaultCommandMaxTTL is the longest validity a gate accepts unless its
// configuration says otherwise.
const DefaultCommandMaxTTL = time.Hour

// checkShape checks what a command must be whoever and whenever checks it:
// a target where the command must name its gate, a nonce, its times, and a
// validity of at most maxTTL.
func checkShape(c *Command, maxTTL time.Duration) *RefusedError {
	switch {
	case c.Target == "" && (c.Name == CmdOpen || c.Name == CmdRelease || c.Name == CmdReplay):
		return refuse(RefuseWrongTarget, "%s must name its gate", c.Name)
	case len(c.Nonce) < 16 || len(c.Nonce) > 64:
		return refuse(RefuseMalformed, "nonce must be 16 to 64 characters")
	case c.IssuedAt.IsZero() || c.ExpiresAt.IsZero():
		return refuse(RefuseMalformed, "issued_at and expires_at are required")
	case c.ExpiresAt.Sub(c.IssuedAt) > maxTTL || !c.ExpiresAt.After(c.IssuedAt):
		return refuse(RefuseTTL, "valid from %s to %s; at most %v", c.IssuedAt.Format(time.RFC3339), c.ExpiresAt.Format(time.RFC3339), maxTTL)
	}
	return nil
}

// CheckCommand is the validation of a command that needs neither the
// gate's keys nor its clock: a known name, its gate named where it must be,
// a nonce, a validity of at most maxTTL, the arguments that command takes,
// and who gives it. The gate applies the same rules to every command it
// verifies; `hazgate cmd sign` applies them before signing, so that it
// never prints a command the gate would refuse.
func CheckCommand(c *Command, maxTTL time.Duration) error {
	if err := checkShape(c, maxTTL); err != nil {
		return err
	}
	if _, err := commandArgs(c); err != nil {
		return err
	}
	if strings.TrimSpace(c.By) == "" {
		return refuse(RefuseMalformed, "by: who gives the command is required")
	}
	return nil
}
