package uplink

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// Signed registry data (docs/uplink.md "Registry sync", "Signed registry
// data"). The platform signs registry data with the same Ed25519 keys and
// envelope as commands, over a domain of its own so that neither signature
// can be taken for the other:
//
//   - a delta is sent as {"schema": SchemaRegistryDelta, "payload": base64(D),
//     "key": ..., "sig": base64(Ed25519(key, RegistrySignDomain + D))}, D the
//     delta's JSON as it is today;
//   - every chunk of a snapshot carries "manifest": an envelope whose payload
//     is a Manifest (the snapshot's version, chunk count and SHA-256). The
//     gate checks each chunk against it, and the assembled snapshot against
//     its SHA-256 as before, so the signature covers every byte.
//
// With registry keys configured (mqtt.registry_keys) the gate applies only
// data signed by one of them; without, it takes unsigned data as before and
// says so at start and in its status.

// RegistrySignDomain is prepended to a registry payload before signing.
const RegistrySignDomain = "hazgate.registry/1\n"

// SchemaRegistryManifest is the schema of a snapshot's signed manifest.
const SchemaRegistryManifest = "hazgate.registry.manifest/v1"

// Manifest is what the platform signs for a snapshot.
type Manifest struct {
	Schema  string `json:"schema"`
	Version int64  `json:"version"`
	Chunks  int64  `json:"chunks"`
	SHA256  string `json:"sha256"`
}

// signedDelta is a delta message as it arrives: either a signed envelope
// (Payload, Key, Sig) or, from a platform that does not sign, the delta's
// own fields.
type signedDelta struct {
	Delta
	Payload string `json:"payload,omitempty"`
	Key     string `json:"key,omitempty"`
	Sig     string `json:"sig,omitempty"`
}

func (s *signedDelta) signed() bool { return s.Payload != "" || s.Key != "" || s.Sig != "" }

func (s *signedDelta) envelope() Envelope {
	return Envelope{Payload: s.Payload, Key: s.Key, Sig: s.Sig}
}

// hasDeltaFields: a signed message carries nothing of the delta outside
// its payload (what is outside was not signed).
func (s *signedDelta) hasDeltaFields() bool {
	d, u, k := s.Delta, s.Upsert, s.Delete
	return d.Base != 0 || d.Version != 0 || !d.SyncedAt.IsZero() || u.Version != 0 || !u.SyncedAt.IsZero() ||
		len(u.Vehicles)+len(u.Tanks)+len(u.Persons)+len(u.Waybills)+len(u.Blacklist)+len(u.Appointments) > 0 ||
		len(k.Vehicles)+len(k.Tanks)+len(k.Persons)+len(k.Waybills)+len(k.Blacklist)+len(k.Appointments) > 0
}

// SignedMessage is a signed registry delta as published: the topic's
// schema and the envelope.
type SignedMessage struct {
	Schema string `json:"schema"`
	Envelope
}

// signEnvelope signs payload over domain.
func signEnvelope(priv ed25519.PrivateKey, domain string, payload []byte) Envelope {
	sig := ed25519.Sign(priv, append([]byte(domain), payload...))
	return Envelope{
		Payload: base64.StdEncoding.EncodeToString(payload),
		Key:     PublicKeyString(priv.Public().(ed25519.PublicKey)),
		Sig:     base64.StdEncoding.EncodeToString(sig),
	}
}

// SignDelta returns the signed message of a delta, ready to publish on the
// registry's delta topic. A zero Schema is set.
func SignDelta(priv ed25519.PrivateKey, d Delta) ([]byte, error) {
	if d.Schema == "" {
		d.Schema = SchemaRegistryDelta
	}
	payload, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("uplink: sign delta: %w", err)
	}
	env := signEnvelope(priv, RegistrySignDomain, payload)
	return json.Marshal(SignedMessage{Schema: SchemaRegistryDelta, Envelope: env})
}

// SignSnapshot cuts a snapshot's JSON into chunks of at most size bytes,
// each carrying the signed manifest.
func SignSnapshot(priv ed25519.PrivateKey, version int64, snapJSON []byte, size int) ([]SnapshotChunk, error) {
	chunks := ChunkSnapshot(version, snapJSON, size)
	payload, err := json.Marshal(Manifest{Schema: SchemaRegistryManifest, Version: version,
		Chunks: int64(len(chunks)), SHA256: chunks[0].SHA256})
	if err != nil {
		return nil, fmt.Errorf("uplink: sign snapshot: %w", err)
	}
	env := signEnvelope(priv, RegistrySignDomain, payload)
	for i := range chunks {
		chunks[i].Manifest = &env
	}
	return chunks, nil
}

// open checks an envelope's signature over domain against the keyring and
// returns the signed payload and the key's text form.
func (kr *keyring) open(env Envelope, domain string) ([]byte, string, *RefusedError) {
	if env.Sig == "" || env.Key == "" {
		return nil, "", refuse(RefuseUnsigned, "no key or signature")
	}
	pub, ok := kr.keys[env.Key]
	if !ok {
		return nil, env.Key, refuse(RefuseUntrusted, "key %s is not trusted", env.Key)
	}
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		return nil, env.Key, refuse(RefuseMalformed, "payload is not base64")
	}
	sig, err := base64.StdEncoding.DecodeString(env.Sig)
	if err != nil || len(sig) != ed25519.SignatureSize || !ed25519.Verify(pub, append([]byte(domain), payload...), sig) {
		return nil, env.Key, refuse(RefuseBadSignature, "signature does not verify with %s", env.Key)
	}
	return payload, env.Key, nil
}

// signatureRefusal is a registry refusal's reason in plain words.
func signatureRefusal(e *RefusedError) error {
	switch e.Reason {
	case RefuseUnsigned:
		return fmt.Errorf("not signed, and only data signed by a registry key (mqtt.registry_keys) is applied")
	case RefuseUntrusted:
		return fmt.Errorf("signed by %s, which is not one of the registry keys (mqtt.registry_keys)", strings.TrimPrefix(e.Detail, "key "))
	case RefuseBadSignature:
		return fmt.Errorf("the signature does not verify: the data was changed after it was signed, or signed by another key")
	default:
		return fmt.Errorf("signature envelope: %s", e.Detail)
	}
}

// openDelta returns the delta a message carries, its signature checked
// when registry keys are configured.
func (r *registrySync) openDelta(data []byte) (Delta, error) {
	var m signedDelta
	if err := decodeStrict(data, &m); err != nil {
		return Delta{}, fmt.Errorf("not a registry delta: %w", err)
	}
	if !m.signed() {
		if r.keys != nil {
			return Delta{}, signatureRefusal(refuse(RefuseUnsigned, ""))
		}
		return m.Delta, nil
	}
	if m.hasDeltaFields() {
		return Delta{}, fmt.Errorf("a signed delta carries its fields in its payload only; these are outside it and were not signed")
	}
	if r.keys == nil {
		// Signed, but the gate has no key to check it with: it is
		// taken as unsigned data is (the status says registry data is
		// not checked).
		payload, err := base64.StdEncoding.DecodeString(m.Payload)
		if err != nil {
			return Delta{}, fmt.Errorf("payload: not base64")
		}
		return decodeDelta(payload)
	}
	payload, _, rerr := r.keys.open(m.envelope(), RegistrySignDomain)
	if rerr != nil {
		return Delta{}, signatureRefusal(rerr)
	}
	return decodeDelta(payload)
}

func decodeDelta(payload []byte) (Delta, error) {
	var d Delta
	if err := decodeStrict(payload, &d); err != nil {
		return Delta{}, fmt.Errorf("signed payload is not a registry delta: %w", err)
	}
	if d.Schema != SchemaRegistryDelta {
		return Delta{}, fmt.Errorf("signed payload: schema %q is not %q", d.Schema, SchemaRegistryDelta)
	}
	return d, nil
}

// checkManifest checks a snapshot chunk against its signed manifest when
// registry keys are configured.
func (r *registrySync) checkManifest(c *SnapshotChunk) error {
	if r.keys == nil {
		return nil
	}
	if c.Manifest == nil {
		return signatureRefusal(refuse(RefuseUnsigned, ""))
	}
	payload, _, rerr := r.keys.open(*c.Manifest, RegistrySignDomain)
	if rerr != nil {
		return signatureRefusal(rerr)
	}
	var m Manifest
	if err := decodeStrict(payload, &m); err != nil || m.Schema != SchemaRegistryManifest {
		return fmt.Errorf("the signed manifest is not a %s", SchemaRegistryManifest)
	}
	if m.Version != c.Version || m.Chunks != c.Chunks || !strings.EqualFold(m.SHA256, c.SHA256) {
		return fmt.Errorf("the chunk (version %d, %d chunks, sha256 %.12s…) is not the snapshot the manifest signs (version %d, %d chunks, sha256 %.12s…)",
			c.Version, c.Chunks, c.SHA256, m.Version, m.Chunks, m.SHA256)
	}
	return nil
}
