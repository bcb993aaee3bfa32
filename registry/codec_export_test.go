package registry

// CodecRoundTrip encodes rec in the index's form and decodes it back; false
// when it does not encode or decode.
func CodecRoundTrip[T any](rec T) (T, bool) { return roundTrip(&rec) }

// HeldAsIs counts the records ix holds as they are, not encoded.
func HeldAsIs(ix *Index) int {
	return len(ix.vehicles.odd) + len(ix.tanks.odd) + len(ix.persons.odd) + len(ix.waybills.odd)
}
