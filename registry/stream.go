package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// DecodeJSON reads a snapshot from a JSON document as a stream, one record
// at a time, so that the document is never held whole beside the records
// decoded from it (a 60 MB snapshot over MQTT, a large `registry import`).
// It is as strict as Decode: unknown and repeated keys, null records and a
// second document are errors, and the snapshot must validate. Errors name
// the file and the field, and the byte offset where the JSON breaks; the
// record and field of a record that does not validate.
func DecodeJSON(r io.Reader, file string) (*Snapshot, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	fail := func(field string, err error) error {
		if field == "" {
			return fmt.Errorf("%s: byte %d: %w", file, dec.InputOffset(), err)
		}
		return fmt.Errorf("%s: byte %d: %s: %w", file, dec.InputOffset(), field, err)
	}
	if err := expectDelim(dec, '{'); err != nil {
		return nil, fail("", err)
	}
	var s Snapshot
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fail("", err)
		}
		key, _ := tok.(string)
		if seen[key] {
			return nil, fail(key, errors.New("given twice"))
		}
		seen[key] = true
		switch key {
		case "version":
			err = decodeValue(dec, &s.Version)
		case "synced_at":
			err = decodeValue(dec, &s.SyncedAt)
		case "vehicles":
			err = decodeList(dec, &s.Vehicles)
		case "tanks":
			err = decodeList(dec, &s.Tanks)
		case "persons":
			err = decodeList(dec, &s.Persons)
		case "waybills":
			err = decodeList(dec, &s.Waybills)
		case "blacklist":
			err = decodeList(dec, &s.Blacklist)
		default:
			return nil, fail(key, errors.New("unknown field"))
		}
		if err != nil {
			return nil, fail(key, err)
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, fail("", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fail("", errors.New("more after the snapshot: one document only"))
	}
	if ps := s.Validate(); len(ps) > 0 {
		errs := make([]error, len(ps))
		for i, p := range ps {
			errs[i] = fmt.Errorf("%s: %s: %s", file, p.Field, p.Msg)
		}
		return nil, errors.Join(errs...)
	}
	return &s, nil
}

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

// decodeList decodes a JSON array element by element into *out, refusing
// null elements; a null list is an empty one.
func decodeList[T any](dec *json.Decoder, out *[]T) error {
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
	for i := 0; dec.More(); i++ {
		var raw json.RawMessage
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
		*out = append(*out, v)
	}
	_, err = dec.Token() // ']'
	return err
}

func unmarshalStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
