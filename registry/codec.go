package registry

import (
	"encoding/binary"
	"math"
	"math/bits"
	"sync"
	"time"
)

// The index holds each record in a compact binary form of its own, read
// back without reflection (a lookup is on the decision's path: issue 14.6).
// The form lives only in memory, in one process: it is never written out,
// so it has no version. In field order:
//
//   - a string: its length (uvarint), then its bytes;
//   - a float64: its bits, bytes reversed, as a uvarint (0 is one byte, a
//     round number such as 40000 four);
//   - a slice: 0 for nil, else its length plus one (uvarint), then each
//     element (an empty slice and a nil one are kept apart, as their JSON
//     keeps them: [] and null);
//   - a Validity: a flags byte (vSet, vDateOnly, vTime, and the time's
//     location: vLocal or vFixed, UTC when neither), then, with vTime, its
//     Unix seconds (varint) and nanoseconds (uvarint), and, with vFixed,
//     the zone's name and its offset in seconds (varint).
//
// A record the form cannot give back exactly (a time in a zone loaded by
// name, or carrying a monotonic reading: the JSON round trip the index
// does first leaves neither) is not encoded: encodeRecord reports false.
// codec_test.go proves decode(encode(r)) is r for every record kind and
// that every field of the record types is encoded.

const (
	vSet = 1 << iota
	vDateOnly
	vTime
	vLocal
	vFixed
)

type encoder struct {
	b  []byte
	ok bool
}

func (e *encoder) uvarint(u uint64) { e.b = binary.AppendUvarint(e.b, u) }

func (e *encoder) str(s string) {
	e.uvarint(uint64(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) f64(f float64) { e.uvarint(bits.ReverseBytes64(math.Float64bits(f))) }

func (e *encoder) strs(ss []string) {
	if ss == nil {
		e.uvarint(0)
		return
	}
	e.uvarint(uint64(len(ss)) + 1)
	for _, s := range ss {
		e.str(s)
	}
}

func (e *encoder) validity(v Validity) {
	var flags byte
	if v.set {
		flags |= vSet
	}
	if v.dateOnly {
		flags |= vDateOnly
	}
	t := v.t
	if t == (time.Time{}) {
		e.b = append(e.b, flags)
		return
	}
	if t != t.Round(0) { // a monotonic reading
		e.ok = false
		return
	}
	flags |= vTime
	loc := t.Location()
	name, offset := t.Zone()
	switch loc {
	case time.UTC:
	case time.Local:
		flags |= vLocal
	default:
		// A zone FixedZone made has one offset for ever, and a name
		// (maybe "") that String gives back; a zone loaded by name has
		// bounds, or a name of its own.
		if start, end := t.ZoneBounds(); !start.IsZero() || !end.IsZero() || loc.String() != name {
			e.ok = false
			return
		}
		flags |= vFixed
	}
	e.b = append(e.b, flags)
	e.b = binary.AppendVarint(e.b, t.Unix())
	e.uvarint(uint64(t.Nanosecond()))
	if flags&vFixed != 0 {
		e.str(name)
		e.b = binary.AppendVarint(e.b, int64(offset))
	}
}

func (e *encoder) vehicle(v *Vehicle) {
	e.str(v.Plate)
	e.str(v.Kind)
	e.str(v.Carrier)
	e.validity(v.LicenceValidUntil)
	e.str(v.PermitNo)
	e.validity(v.PermitValidUntil)
	e.strs(v.PermitClasses)
	e.validity(v.InspectionValidUntil)
	e.f64(v.RatedLoadKg)
	e.str(v.PlateColor)
	e.f64(v.CurbWeightKg)
	e.f64(v.MaxGrossKg)
	e.str(v.Emergency)
}

func (e *encoder) tank(t *Tank) {
	e.str(t.ID)
	e.str(t.Vehicle)
	e.validity(t.InspectionValidUntil)
	e.strs(t.Media)
}

func (e *encoder) person(p *Person) {
	e.str(p.IDNumber)
	e.str(p.Name)
	e.str(p.Gender)
	e.str(p.Nation)
	e.validity(p.Birth)
	e.str(p.Address)
	e.str(p.Authority)
	e.validity(p.CardValidFrom)
	e.validity(p.CardValidUntil)
	if p.Certificates == nil {
		e.uvarint(0)
		return
	}
	e.uvarint(uint64(len(p.Certificates)) + 1)
	for i := range p.Certificates {
		c := &p.Certificates[i]
		e.str(string(c.Role))
		e.str(c.Number)
		e.validity(c.ValidFrom)
		e.validity(c.ValidUntil)
	}
}

func (e *encoder) waybill(w *Waybill) {
	e.str(w.Number)
	e.str(w.Vehicle)
	e.str(w.Trailer)
	e.str(w.Driver)
	e.str(w.Escort)
	e.str(w.Carrier)
	e.validity(w.ValidFrom)
	e.validity(w.ValidUntil)
	if w.Goods == nil {
		e.uvarint(0)
	} else {
		e.uvarint(uint64(len(w.Goods)) + 1)
		for i := range w.Goods {
			g := &w.Goods[i]
			e.str(g.UN)
			e.str(g.Name)
			e.str(g.Class)
			e.f64(g.QuantityKg)
		}
	}
	e.str(w.Status)
}

// encBufs are encoders' buffers: an index of tens of thousands of records
// is built without as many buffers of garbage.
var encBufs = sync.Pool{New: func() any { return new([]byte) }}

// encodeRecord gives rec in the index's form, false when the form cannot
// give it back exactly.
func encodeRecord[T any](rec *T) (string, bool) {
	buf := encBufs.Get().(*[]byte)
	e := encoder{b: (*buf)[:0], ok: true}
	defer func() {
		*buf = e.b
		encBufs.Put(buf)
	}()
	switch r := any(rec).(type) {
	case *Vehicle:
		e.vehicle(r)
	case *Tank:
		e.tank(r)
	case *Person:
		e.person(r)
	case *Waybill:
		e.waybill(r)
	default:
		return "", false
	}
	if !e.ok {
		return "", false
	}
	return string(e.b), true
}

// decoder reads the form from a string: the strings of a record it gives
// are parts of that string (no copy: a string is immutable), its slices
// are its own. A form it cannot read sets bad.
type decoder struct {
	s   string
	bad bool
}

func (d *decoder) uvarint() uint64 {
	var u uint64
	for i := 0; i < len(d.s) && i < binary.MaxVarintLen64; i++ {
		c := d.s[i]
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				break
			}
			d.s = d.s[i+1:]
			return u | uint64(c)<<(7*i)
		}
		u |= uint64(c&0x7f) << (7 * i)
	}
	d.bad = true
	d.s = ""
	return 0
}

func (d *decoder) varint() int64 {
	u := d.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

func (d *decoder) str() string {
	n := d.uvarint()
	if n > uint64(len(d.s)) {
		d.bad = true
		d.s = ""
		return ""
	}
	s := d.s[:n]
	d.s = d.s[n:]
	return s
}

func (d *decoder) f64() float64 { return math.Float64frombits(bits.ReverseBytes64(d.uvarint())) }

// count reads a slice's length: -1 for nil. Each element takes a byte at
// least, so a length beyond what is left is bad.
func (d *decoder) count() int {
	n := d.uvarint()
	if n == 0 {
		return -1
	}
	if n-1 > uint64(len(d.s)) {
		d.bad = true
		d.s = ""
		return -1
	}
	return int(n - 1)
}

func (d *decoder) strs() []string {
	n := d.count()
	if n < 0 {
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		ss[i] = d.str()
	}
	return ss
}

func (d *decoder) validity() Validity {
	if len(d.s) == 0 {
		d.bad = true
		return Validity{}
	}
	flags := d.s[0]
	d.s = d.s[1:]
	v := Validity{set: flags&vSet != 0, dateOnly: flags&vDateOnly != 0}
	if flags&vTime == 0 {
		return v
	}
	sec := d.varint()
	nsec := d.uvarint()
	if nsec >= 1e9 {
		d.bad = true
		return Validity{}
	}
	t := time.Unix(sec, int64(nsec)) // in Local
	switch {
	case flags&vFixed != 0:
		name := d.str()
		t = t.In(time.FixedZone(name, int(d.varint())))
	case flags&vLocal == 0:
		t = t.UTC()
	}
	v.t = t
	return v
}

func (d *decoder) vehicle(v *Vehicle) {
	v.Plate = d.str()
	v.Kind = d.str()
	v.Carrier = d.str()
	v.LicenceValidUntil = d.validity()
	v.PermitNo = d.str()
	v.PermitValidUntil = d.validity()
	v.PermitClasses = d.strs()
	v.InspectionValidUntil = d.validity()
	v.RatedLoadKg = d.f64()
	v.PlateColor = d.str()
	v.CurbWeightKg = d.f64()
	v.MaxGrossKg = d.f64()
	v.Emergency = d.str()
}

func (d *decoder) tank(t *Tank) {
	t.ID = d.str()
	t.Vehicle = d.str()
	t.InspectionValidUntil = d.validity()
	t.Media = d.strs()
}

func (d *decoder) person(p *Person) {
	p.IDNumber = d.str()
	p.Name = d.str()
	p.Gender = d.str()
	p.Nation = d.str()
	p.Birth = d.validity()
	p.Address = d.str()
	p.Authority = d.str()
	p.CardValidFrom = d.validity()
	p.CardValidUntil = d.validity()
	if n := d.count(); n >= 0 {
		p.Certificates = make([]Certificate, n)
		for i := range p.Certificates {
			c := &p.Certificates[i]
			c.Role = Role(d.str())
			c.Number = d.str()
			c.ValidFrom = d.validity()
			c.ValidUntil = d.validity()
		}
	}
}

func (d *decoder) waybill(w *Waybill) {
	w.Number = d.str()
	w.Vehicle = d.str()
	w.Trailer = d.str()
	w.Driver = d.str()
	w.Escort = d.str()
	w.Carrier = d.str()
	w.ValidFrom = d.validity()
	w.ValidUntil = d.validity()
	if n := d.count(); n >= 0 {
		w.Goods = make([]Good, n)
		for i := range w.Goods {
			g := &w.Goods[i]
			g.UN = d.str()
			g.Name = d.str()
			g.Class = d.str()
			g.QuantityKg = d.f64()
		}
	}
	w.Status = d.str()
}

// decodeRecord reads a record that encodeRecord wrote; false (and the zero
// record) when doc is not one whole.
func decodeRecord[T any](doc string) (T, bool) {
	var rec T
	d := decoder{s: doc}
	switch r := any(&rec).(type) {
	case *Vehicle:
		d.vehicle(r)
	case *Tank:
		d.tank(r)
	case *Person:
		d.person(r)
	case *Waybill:
		d.waybill(r)
	default:
		d.bad = true
	}
	if d.bad || d.s != "" {
		var zero T
		return zero, false
	}
	return rec, true
}
