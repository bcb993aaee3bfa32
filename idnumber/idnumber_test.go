package idnumber

import (
	"errors"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"standard sample with X", "11010519491231002X", nil},
		{"lower-case x", "11010519491231002x", nil},
		{"digit check", "110105194912310037", ErrChecksum},
		{"synthetic", "330204199001010018", ErrChecksum},
		{"too short", "1101051949123100", ErrFormat},
		{"letter inside", "1101051949A231002X", ErrFormat},
		{"bad check char", "11010519491231002Y", ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Validate(tt.in); !errors.Is(got, tt.want) && got != tt.want {
				t.Fatalf("Validate(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestComplete(t *testing.T) {
	for _, first := range []string{"11010519491231002", "33020419900101001", "99000020000229123"} {
		id, err := Complete(first)
		if err != nil {
			t.Fatal(err)
		}
		if err := Validate(id); err != nil {
			t.Fatalf("Complete(%q) = %q, which does not validate: %v", first, id, err)
		}
	}
}

func TestCheckForeign2017(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{{"USA990001000011", true}, {"usa990001000011", false}, {"USA99000100001", false}, {"11010519491231002X", true}, {"110105194912310037", false}} {
		if err := Check(tt.in); (err == nil) != tt.ok {
			t.Errorf("Check(%q) = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}
