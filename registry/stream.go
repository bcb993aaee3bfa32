package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// DecodeJSON reads a snapshot from a JSON document as a stream, one record
// at a time, so that the document is never held whole beside the records
// decoded from it (a large `registry import`). It is as strict as Decode:
// unknown and repeated keys, null records and a second document are
// errors, and the snapshot must validate. Errors name the file and the
// field, and the byte offset where the JSON breaks; the record and field of
// a record that does not validate.
func DecodeJSON(r io.Reader, file string) (*Snapshot, error) {
	var s Snapshot
	h := handlers{
		vehicle:   func(_ int, v Vehicle) error { s.Vehicles = append(s.Vehicles, v); return nil },
		tank:      func(_ int, t Tank) error { s.Tanks = append(s.Tanks, t); return nil },
		person:    func(_ int, p Person) error { s.Persons = append(s.Persons, p); return nil },
		waybill:   func(_ int, w Waybill) error { s.Waybills = append(s.Waybills, w); return nil },
		blacklist: func(_ int, b BlacklistEntry) error { s.Blacklist = append(s.Blacklist, b); return nil },
		appointment: func(_ int, a Appointment) error {
			s.Appointments = append(s.Appointments, a)
			return nil
		},
	}
	if err := walkJSON(r, file, &s.Version, &s.SyncedAt, h); err != nil {
		return nil, err
	}
	if ps := s.Validate(); len(ps) > 0 {
		return nil, problemsJoin(file, ps)
	}
	return &s, nil
}

func problemsJoin(file string, ps []Problem) error {
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = fmt.Errorf("%s: %s: %s", file, p.Field, p.Msg)
	}
	return errors.Join(errs...)
}

// Head is what a snapshot says of itself, and how many records of each
// kind it holds.
type Head struct {
	Version                                       int64
	SyncedAt                                      Validity
	Vehicles, Tanks, Persons, Waybills, Blacklist int
	Appointments                                  int
}

// Sink receives a snapshot's records one at a time, with their place in
// their list, as StreamJSON decodes them. A nil function takes nothing. An
// error from one ends the stream and is StreamJSON's error, as it is.
type Sink struct {
	Vehicle   func(i int, v Vehicle) error
	Tank      func(i int, t Tank) error
	Person    func(i int, p Person) error
	Waybill   func(i int, w Waybill) error
	Blacklist func(i int, b BlacklistEntry) error
	// Appointment takes the appointments (appointments.go).
	Appointment func(i int, a Appointment) error
}

// StreamJSON reads a snapshot from a JSON document as DecodeJSON does, as
// strictly and with the same errors, and validates it record by record as
// Snapshot.Validate does (the same rules, the same field paths), without
// ever holding the snapshot: each record goes to sink as it is decoded,
// and is then dropped. Only the keys the duplicate checks need are held.
// Once any problem is found, sink is given nothing more, and the rest of
// the document is still read for its problems, which are all reported
// (in the order of the document).
func StreamJSON(r io.Reader, file string, sink Sink) (Head, error) {
	var h Head
	v := newStreamValidator()
	var sinkErr error
	give := func(ok bool, f func() error) error {
		if ok && len(v.ps) == 0 && sinkErr == nil {
			sinkErr = f()
			return sinkErr
		}
		return nil
	}
	hs := validatingHandlers(&h, v, sink, func(_ string, _ int, ok bool, f func() error) error { return give(ok, f) })
	err := walkJSON(r, file, &h.Version, &h.SyncedAt, hs)
	if sinkErr != nil {
		return h, sinkErr
	}
	if err != nil {
		return h, err
	}
	if len(v.ps) > 0 {
		return h, problemsJoin(file, v.ps)
	}
	return h, nil
}

// WalkJSON reads a snapshot's JSON as StreamJSON does, as strictly, and
// gives every record to sink, but does not validate the records: it is for
// a document StreamJSON has validated, read again (the store checks that
// the bytes are the same, by their hash), so that the second reading holds
// not even the duplicate checks' keys.
func WalkJSON(r io.Reader, file string, sink Sink) (Head, error) {
	var h Head
	hs := walkHandlers(&h, sink)
	err := walkJSON(r, file, &h.Version, &h.SyncedAt, hs)
	return h, err
}

func call[T any](f func(int, T) error, i int, v T) error {
	if f == nil {
		return nil
	}
	return f(i, v)
}

// streamValidator applies Snapshot.Validate to one record at a time: each
// record is validated alone by Validate itself (its field paths moved to
// the record's place), and the duplicate checks, the only rules across
// records, are made here against the keys seen so far, with Validate's
// words.
type streamValidator struct {
	plates, tanks, persons, waybills map[string]int
	appts                            map[string]int
	ps                               []Problem
	one                              Snapshot
}

func newStreamValidator() *streamValidator {
	return &streamValidator{plates: map[string]int{}, tanks: map[string]int{}, persons: map[string]int{}, waybills: map[string]int{}}
}

// alone validates s, which holds one record at place 0 of list, as if at
// place i, after dup (a duplicate key's problem, or none): the key's field
// is the first Validate checks in every record. It reports whether the
// record has no problem.
func (v *streamValidator) alone(list string, i int, dup *Problem) bool {
	ps := v.one.Validate()
	v.one = Snapshot{}
	if dup != nil {
		v.ps = append(v.ps, *dup)
	}
	from, to := list+"[0]", fmt.Sprintf("%s[%d]", list, i)
	for _, p := range ps {
		p.Field = to + strings.TrimPrefix(p.Field, from)
		v.ps = append(v.ps, p)
	}
	return dup == nil && len(ps) == 0
}

func (v *streamValidator) vehicle(i int, r Vehicle) bool {
	var dup *Problem
	if PlateProblem(r.Plate) == "" {
		dup = firstSeen(v.plates, NormalizePlate(r.Plate), r.Plate, "vehicles", "plate", i)
	}
	v.one.Vehicles = []Vehicle{r}
	return v.alone("vehicles", i, dup)
}

func (v *streamValidator) tank(i int, r Tank) bool {
	var dup *Problem
	if r.ID != "" {
		dup = firstSeen(v.tanks, r.ID, r.ID, "tanks", "id", i)
	}
	v.one.Tanks = []Tank{r}
	return v.alone("tanks", i, dup)
}

func (v *streamValidator) person(i int, r Person) bool {
	var dup *Problem
	if IDProblem(r.IDNumber) == "" {
		if j, seen := v.persons[r.IDNumber]; seen {
			dup = &Problem{fmt.Sprintf("persons[%d].id_number", i), fmt.Sprintf("%s is already persons[%d]", r.IDNumber, j)}
		}
		v.persons[r.IDNumber] = i // as Validate: the latest place
	}
	v.one.Persons = []Person{r}
	return v.alone("persons", i, dup)
}

func (v *streamValidator) waybill(i int, r Waybill) bool {
	var dup *Problem
	if r.Number != "" {
		dup = firstSeen(v.waybills, r.Number, r.Number, "waybills", "number", i)
	}
	v.one.Waybills = []Waybill{r}
	return v.alone("waybills", i, dup)
}

func (v *streamValidator) blacklist(i int, r BlacklistEntry) bool {
	v.one.Blacklist = []BlacklistEntry{r}
	return v.alone("blacklist", i, nil)
}

// handlers take the records of each list as they are decoded.
type handlers struct {
	vehicle   func(int, Vehicle) error
	tank      func(int, Tank) error
	person    func(int, Person) error
	waybill   func(int, Waybill) error
	blacklist func(int, BlacklistEntry) error
	// appointment may be nil: the list is then refused as unknown.
	appointment func(int, Appointment) error
}

// walkJSON reads a snapshot document, strictly, into version and syncedAt
// and, record by record, h.
func walkJSON(r io.Reader, file string, version *int64, syncedAt *Validity, h handlers) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	fail := func(field string, err error) error {
		if field == "" {
			return fmt.Errorf("%s: byte %d: %w", file, dec.InputOffset(), err)
		}
		return fmt.Errorf("%s: byte %d: %s: %w", file, dec.InputOffset(), field, err)
	}
	if err := expectDelim(dec, '{'); err != nil {
		return fail("", err)
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fail("", err)
		}
		key, _ := tok.(string)
		if seen[key] {
			return fail(key, errors.New("given twice"))
		}
		seen[key] = true
		switch key {
		case "version":
			err = decodeValue(dec, version)
		case "synced_at":
			err = decodeValue(dec, syncedAt)
		case "vehicles":
			err = decodeList(dec, h.vehicle)
		case "tanks":
			err = decodeList(dec, h.tank)
		case "persons":
			err = decodeList(dec, h.person)
		case "waybills":
			err = decodeList(dec, h.waybill)
		case "blacklist":
			err = decodeList(dec, h.blacklist)
		case "appointments":
			err = decodeList(dec, h.appointment)
		default:
			return fail(key, errors.New("unknown field"))
		}
		var se sinkError
		if errors.As(err, &se) {
			return se.err
		}
		if err != nil {
			return fail(key, err)
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return fail("", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fail("", errors.New("more after the snapshot: one document only"))
	}
	return nil
}

// sinkError carries a handler's error through decodeList, unchanged.
type sinkError struct{ err error }

func (e sinkError) Error() string { return e.err.Error() }

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("found %v where %q belongs", tok, string(want))
	}
	return nil
}

// decodeValue decodes one value (null leaves it unset, as json.Marshal
// writes an unset synced_at).
func decodeValue(dec *json.Decoder, v any) error {
	return dec.Decode(v)
}

// decodeList decodes a JSON array element by element, handing each to
// take, refusing null elements; a null list is an empty one.
func decodeList[T any](dec *json.Decoder, take func(int, T) error) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("found %v where a list belongs", tok)
	}
	var raw json.RawMessage // reused: each record is decoded from it, then dropped
	for i := 0; dec.More(); i++ {
		raw = raw[:0]
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("[%d]: %w", i, err)
		}
		if string(raw) == "null" {
			return fmt.Errorf("[%d]: null, where a record belongs", i)
		}
		var v T
		if err := unmarshalStrict(raw, &v); err != nil {
			return fmt.Errorf("[%d]: %w", i, err)
		}
		if err := take(i, v); err != nil {
			return sinkError{err}
		}
	}
	_, err = dec.Token() // ']'
	return err
}

func unmarshalStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// firstSeen records that list[i] has key, or, when an earlier record had it,
// returns the duplicate's problem at list[i].field, naming it as shown.
func firstSeen(seen map[string]int, key, shown, list, field string, i int) *Problem {
	if j, dup := seen[key]; dup {
		return &Problem{fmt.Sprintf("%s[%d].%s", list, i, field), fmt.Sprintf("%s is already %s[%d]", shown, list, j)}
	}
	seen[key] = i
	return nil
}

// walkHandlers gives every record to sink, counting them in h: the
// handlers of WalkJSON and WalkYAML.
func walkHandlers(h *Head, sink Sink) handlers {
	return handlers{
		vehicle:   func(i int, r Vehicle) error { h.Vehicles++; return call(sink.Vehicle, i, r) },
		tank:      func(i int, r Tank) error { h.Tanks++; return call(sink.Tank, i, r) },
		person:    func(i int, r Person) error { h.Persons++; return call(sink.Person, i, r) },
		waybill:   func(i int, r Waybill) error { h.Waybills++; return call(sink.Waybill, i, r) },
		blacklist: func(i int, r BlacklistEntry) error { h.Blacklist++; return call(sink.Blacklist, i, r) },
		appointment: func(i int, r Appointment) error {
			h.Appointments++
			return call(sink.Appointment, i, r)
		},
	}
}

// validatingHandlers counts every record in h, validates it with v, and
// hands it to give with its list's name, its index and whether it is
// valid; give decides whether it goes to sink (the handlers of StreamJSON
// and StreamYAML).
func validatingHandlers(h *Head, v *streamValidator, sink Sink, give func(list string, i int, ok bool, f func() error) error) handlers {
	return handlers{
		vehicle: func(i int, r Vehicle) error {
			h.Vehicles++
			return give("vehicles", i, v.vehicle(i, r), func() error { return call(sink.Vehicle, i, r) })
		},
		tank: func(i int, r Tank) error {
			h.Tanks++
			return give("tanks", i, v.tank(i, r), func() error { return call(sink.Tank, i, r) })
		},
		person: func(i int, r Person) error {
			h.Persons++
			return give("persons", i, v.person(i, r), func() error { return call(sink.Person, i, r) })
		},
		waybill: func(i int, r Waybill) error {
			h.Waybills++
			return give("waybills", i, v.waybill(i, r), func() error { return call(sink.Waybill, i, r) })
		},
		blacklist: func(i int, r BlacklistEntry) error {
			h.Blacklist++
			return give("blacklist", i, v.blacklist(i, r), func() error { return call(sink.Blacklist, i, r) })
		},
		appointment: func(i int, r Appointment) error {
			h.Appointments++
			return give("appointments", i, v.appointment(i, r), func() error { return call(sink.Appointment, i, r) })
		},
	}
}
