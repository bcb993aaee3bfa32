package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"modernc.org/sqlite"
)

// ActorSystem is the audit actor for what the gate does by itself; an
// operator is "operator:<name>".
const ActorSystem = "system"

// AuditEntry is one row of the append-only audit log.
type AuditEntry struct {
	Seq      int64
	At       time.Time
	Actor    string // "system" or "operator:<name>"
	Action   string // e.g. "inspection.decided"
	Subject  string // what it is about: an inspection ID, "registry", ...
	Detail   json.RawMessage
	PrevHash string // hex SHA-256 of the previous entry; "" for the first
	Hash     string // hex SHA-256 of this entry, see auditHash
}

// Audit appends a stand-alone entry. detail is stored as JSON.
func (s *Store) Audit(ctx context.Context, actor, action, subject string, detail any, at time.Time) error {
	return s.write(ctx, "audit "+action, func(tx *sql.Tx) error {
		return s.appendAudit(ctx, tx, actor, action, subject, detail, at)
	})
}

// qAppendAudit appends an entry in one statement: the next seq follows the
// highest ever handed out (the trigger audit_seq keeps it, so rows deleted
// from the end leave a gap), the link is the last entry's hash, and the
// hash is auditHash's, through the SQL function hazgate_audit_hash. One
// statement, not a read and then an insert, because the decision's commit
// waits for each (docs/benchmarks.md, "Decision latency").
const qAppendAudit = `INSERT INTO audit (seq, ts, actor, action, subject, detail, prev_hash, hash)
	SELECT next.seq, ?1, ?2, ?3, ?4, ?5, next.prev, hazgate_audit_hash(next.seq, ?1, ?2, ?3, ?4, ?5, next.prev)
	FROM (SELECT (SELECT value FROM counters WHERE name = 'audit_seq') + 1 AS seq,
		coalesce((SELECT hash FROM audit ORDER BY seq DESC LIMIT 1), '') AS prev) AS next`

func init() {
	sqlite.MustRegisterDeterministicScalarFunction("hazgate_audit_hash", 7, sqlAuditHash)
}

// sqlAuditHash is auditHash as an SQL function of the stored columns
// (seq, ts, actor, action, subject, detail, prev_hash).
func sqlAuditHash(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	seq, ok := args[0].(int64)
	if !ok {
		return nil, fmt.Errorf("hazgate_audit_hash: seq is %T, not an integer", args[0])
	}
	var f [6]string
	for i, a := range args[1:] {
		switch v := a.(type) {
		case string:
			f[i] = v
		case []byte:
			f[i] = string(v)
		default:
			return nil, fmt.Errorf("hazgate_audit_hash: argument %d is %T, not text", i+2, a)
		}
	}
	e := AuditEntry{Seq: seq, Actor: f[1], Action: f[2], Subject: f[3], Detail: json.RawMessage(f[4]), PrevHash: f[5]}
	return auditHash(e, f[0]), nil
}

// appendAudit appends an entry inside tx, chained to the last one. The
// writer's transactions are IMMEDIATE, so the last entry cannot change
// under it.
func (s *Store) appendAudit(ctx context.Context, tx *sql.Tx, actor, action, subject string, detail any, at time.Time) error {
	if actor == "" || action == "" {
		return fmt.Errorf("audit: %w: actor and action are required", ErrInvalid)
	}
	d, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("audit: detail: %w", err)
	}
	if _, err := s.exec(ctx, tx, qAppendAudit, fmtTime(at), actor, action, subject, string(d)); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	s.deriv.added(deriveAudit)
	return nil
}

// auditHash is hex SHA-256 over a domain tag and the entry's fields, each
// length-prefixed (8 bytes, big-endian), in a fixed order: seq, ts as
// stored, actor, action, subject, detail as stored, prev_hash. Nothing in one
// field can pass for another.
func auditHash(e AuditEntry, ts string) string {
	h := sha256.New()
	field := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field("hazgate.audit/1")
	field(strconv.FormatInt(e.Seq, 10))
	field(ts)
	field(e.Actor)
	field(e.Action)
	field(e.Subject)
	field(string(e.Detail))
	field(e.PrevHash)
	return hex.EncodeToString(h.Sum(nil))
}

// AuditError says where the audit chain breaks. It matches ErrTampered.
type AuditError struct {
	Seq int64 // the first entry that does not verify
	Msg string
}

func (e *AuditError) Error() string {
	return fmt.Sprintf("store: audit seq %d: %s", e.Seq, e.Msg)
}

// Is makes errors.Is(err, ErrTampered) true.
func (e *AuditError) Is(target error) bool { return target == ErrTampered }

// VerifyAudit walks the whole audit log and returns an *AuditError naming
// the first entry that was altered, that follows deleted entries (a gap in
// seq), or whose chain link is wrong (entries reordered or replaced). Rows
// deleted from the end show too, as long as the audit_seq counter was left
// alone; only a copy of the last hash kept elsewhere can prove that. After
// a retention purge the walk starts from the purge anchor, which the last
// "audit.purged" entry must name (store/retention.go).
func (s *Store) VerifyAudit(ctx context.Context) error {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("store: verify audit: %w", err)
	}
	defer tx.Rollback()
	_, err = verifyAudit(ctx, tx)
	return err
}

// verifyAudit is VerifyAudit inside tx; it also returns how many entries
// it verified.
func verifyAudit(ctx context.Context, tx *sql.Tx) (int64, error) {
	// After a purge the chain starts at the anchor: the entry after it
	// links to the last one purged (store/retention.go).
	var last AuditEntry
	var err error
	if last.Seq, last.Hash, err = auditAnchor(ctx, tx); err != nil {
		return 0, fmt.Errorf("store: verify audit: %w", err)
	}
	anchor := last
	rows, err := tx.QueryContext(ctx, `SELECT seq, ts, actor, action, subject, detail, prev_hash, hash FROM audit WHERE seq > ? ORDER BY seq`, anchor.Seq)
	if err != nil {
		return 0, fmt.Errorf("store: verify audit: %w", err)
	}
	defer rows.Close()
	var n int64
	var purged *AuditEntry // the last audit.purged entry, which names the anchor
	for rows.Next() {
		e, ts, err := scanAudit(rows)
		if err != nil {
			return n, fmt.Errorf("store: verify audit: %w", err)
		}
		switch {
		case e.Seq != last.Seq+1:
			return n, &AuditError{Seq: e.Seq, Msg: fmt.Sprintf("follows seq %d: entries %d to %d are missing", last.Seq, last.Seq+1, e.Seq-1)}
		case e.PrevHash != last.Hash:
			return n, &AuditError{Seq: e.Seq, Msg: "its link to the previous entry is wrong: entries were reordered or replaced"}
		case auditHash(e, ts) != e.Hash:
			return n, &AuditError{Seq: e.Seq, Msg: "its contents do not match its hash: the entry was altered"}
		}
		last = e
		if e.Action == actionAuditPurged {
			purged = &e
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("store: verify audit: %w", err)
	}
	if err := checkAnchor(anchor, purged); err != nil {
		return n, err
	}
	var high int64
	if err := tx.QueryRowContext(ctx, `SELECT value FROM counters WHERE name = 'audit_seq'`).Scan(&high); err != nil {
		return n, fmt.Errorf("store: verify audit: %w", err)
	}
	if high > last.Seq {
		return n, &AuditError{Seq: last.Seq + 1, Msg: fmt.Sprintf("entries %d to %d were deleted from the end", last.Seq+1, high)}
	}
	return n, nil
}

// AuditHead returns the last audit entry's seq and hash (0 and "" for an
// empty log). Published elsewhere (the uplink's status), it anchors the
// chain: with it, even entries deleted from the end of the log show.
func (s *Store) AuditHead(ctx context.Context) (seq int64, hash string, err error) {
	err = s.reader.QueryRowContext(ctx, `SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1`).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("store: audit head: %w", err)
	}
	return seq, hash, nil
}

// AuditFor returns the audit entries about subject, oldest first.
func (s *Store) AuditFor(ctx context.Context, subject string) ([]AuditEntry, error) {
	// audit_subjects is derived: catch it up with what was just written.
	if err := s.flushDerived(ctx); err != nil {
		return nil, fmt.Errorf("store: audit for %s: %w", subject, err)
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT seq, ts, actor, action, subject, detail, prev_hash, hash
		FROM audit WHERE seq IN (SELECT seq FROM audit_subjects WHERE subject = ?1) AND subject = ?1 ORDER BY seq`, subject)
	if err != nil {
		return nil, fmt.Errorf("store: audit for %s: %w", subject, err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		e, _, err := scanAudit(rows)
		if err != nil {
			return nil, fmt.Errorf("store: audit for %s: %w", subject, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: audit for %s: %w", subject, err)
	}
	return out, nil
}

// scanAudit reads a row and also returns its ts as stored, which the hash
// covers.
func scanAudit(rows *sql.Rows) (AuditEntry, string, error) {
	var e AuditEntry
	var ts, detail string
	if err := rows.Scan(&e.Seq, &ts, &e.Actor, &e.Action, &e.Subject, &detail, &e.PrevHash, &e.Hash); err != nil {
		return e, "", err
	}
	e.Detail = json.RawMessage(detail)
	// An unparsable ts is left zero; VerifyAudit reports it through the
	// hash, which covers ts as stored.
	e.At, _ = parseTime(ts)
	return e, ts, nil
}
