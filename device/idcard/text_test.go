package idcard

import (
	"errors"
	"testing"
	"time"

	"github.com/hazgate/hazgate/idnumber"
	"github.com/hazgate/hazgate/registry"
)

// Synthetic people: region 990001 belongs to nobody.
const (
	idResident = "990001198001010019"
	idJ        = "990001197506150020"
	idY        = "990001199002280031"
	idLongTerm = "990001196606060060"
)

func residentCard() Card {
	return Card{
		Kind: KindResident, Name: "张三", GenderCode: "1", NationCode: "01",
		Birth: registry.Date(1980, 1, 1), Address: "测试省测试市测试路1号", IDNumber: idResident,
		Authority: "测试市公安局", ValidFrom: registry.Date(2016, 1, 1), ValidUntil: registry.Date(2036, 1, 1),
	}
}

func TestDecodeTextLayouts(t *testing.T) {
	for _, c := range []struct {
		name  string
		card  Card
		check func(t *testing.T, got Card)
	}{
		{"resident", residentCard(), func(t *testing.T, got Card) {
			if got.Name != "张三" || got.Gender != "男" || got.Nation != "汉" || got.Address != "测试省测试市测试路1号" ||
				got.Authority != "测试市公安局" || got.Birth.String() != "1980-01-01" ||
				got.ValidFrom.String() != "2016-01-01" || got.ValidUntil.String() != "2036-01-01" || got.LongTerm {
				t.Fatalf("got %+v", got)
			}
		}},
		{"resident long-term", Card{Kind: KindResident, Name: "李四", GenderCode: "2", NationCode: "05",
			Birth: registry.Date(1966, 6, 6), IDNumber: idLongTerm, ValidFrom: registry.Date(2010, 6, 6), LongTerm: true},
			func(t *testing.T, got Card) {
				if !got.LongTerm || !got.ValidUntil.IsZero() || got.Nation != "维吾尔" || got.Gender != "女" {
					t.Fatalf("got %+v", got)
				}
				if !got.Person().CardValidUntil.IsZero() {
					t.Fatal("a long-term card's evidence must never expire")
				}
			}},
		{"J residence permit", Card{Kind: KindHKMOTW, Name: "陈大文", GenderCode: "1", Birth: registry.Date(1975, 6, 15),
			Address: "测试特别行政区", IDNumber: idJ, Authority: "测试出入境管理局", ValidFrom: registry.Date(2020, 1, 1),
			ValidUntil: registry.Date(2025, 1, 1), PassNumber: "H99000100", IssueCount: "01"},
			func(t *testing.T, got Card) {
				if got.Kind != KindHKMOTW || got.PassNumber != "H99000100" || got.IssueCount != "01" || got.NationCode != "" || got.Name != "陈大文" {
					t.Fatalf("got %+v", got)
				}
			}},
		{"I permanent residence 2017", Card{Kind: KindForeign2017, EnglishName: "TEST, PERSON ONE", Name: "测试人", GenderCode: "2",
			IDNumber: "XXX990001000001", Nationality: "XXX", Birth: registry.Date(1990, 2, 28),
			ValidFrom: registry.Date(2018, 3, 1), ValidUntil: registry.Date(2028, 3, 1), CardVersion: "02", AuthorityCode: "9900"},
			func(t *testing.T, got Card) {
				if got.Kind != KindForeign2017 || got.EnglishName != "TEST, PERSON ONE" || got.Nationality != "XXX" ||
					got.CardVersion != "02" || got.AuthorityCode != "9900" || got.IDNumber != "XXX990001000001" || got.IDNumberErr != nil {
					t.Fatalf("got %+v", got)
				}
			}},
		{"Y permanent residence 2023", Card{Kind: KindForeign2023, Name: "测试", GenderCode: "1", RenewalCount: "00",
			Birth: registry.Date(1990, 2, 28), EnglishName: "TESTPERSON WITH A LONG NAME ACROSS BOTH PARTS",
			IDNumber: idY, ValidFrom: registry.Date(2023, 12, 1), ValidUntil: registry.Date(2033, 12, 1), CountryCode: "XXX"},
			func(t *testing.T, got Card) {
				if got.Kind != KindForeign2023 || got.EnglishName != "TESTPERSON WITH A LONG NAME ACROSS BOTH PARTS" ||
					got.CountryCode != "XXX" || got.RenewalCount != "00" || got.IDNumberErr != nil {
					t.Fatalf("got %+v", got)
				}
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			text, err := c.card.TextBlock()
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeText(text)
			if err != nil {
				t.Fatal(err)
			}
			if got.IDNumber != c.card.IDNumber || got.Birth != c.card.Birth {
				t.Fatalf("id %q birth %v, want %q %v", got.IDNumber, got.Birth, c.card.IDNumber, c.card.Birth)
			}
			c.check(t, got)
		})
	}
}

// TestDecodeTextBytes pins the resident layout to literal bytes: the name at
// 0, the gender at 30, the ID number at 122, 长期 at 204, spaces as padding.
func TestDecodeTextBytes(t *testing.T) {
	b := make([]byte, TextSize)
	for i := 0; i < TextSize; i += 2 {
		b[i] = ' '
	}
	put := func(off int, le string) { copy(b[off:], h(le)) }
	put(0, "20 5F 09 4E")                                                                                                   // 张三
	put(30, "31 00")                                                                                                        // 1
	put(32, "30 00 31 00")                                                                                                  // 01
	put(36, "31 00 39 00 38 00 30 00 30 00 31 00 30 00 31 00")                                                              // 19800101
	put(122, "39 00 39 00 30 00 30 00 30 00 31 00 31 00 39 00 38 00 30 00 30 00 31 00 30 00 31 00 30 00 30 00 31 00 78 00") // ...001x
	put(188, "32 00 30 00 31 00 36 00 30 00 31 00 30 00 31 00")                                                             // 20160101
	put(204, "7F 95 1F 67")                                                                                                 // 长期
	c, err := DecodeText(b)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "张三" || c.Gender != "男" || !c.LongTerm || c.Kind != KindResident {
		t.Fatalf("got %+v", c)
	}
	// The last character was a lower-case x: normalised, and checked (the
	// number's check digit is 9, so X is wrong and says so).
	if c.IDNumber != "99000119800101001X" || !errors.Is(c.IDNumberErr, idnumber.ErrChecksum) {
		t.Fatalf("id %q err %v", c.IDNumber, c.IDNumberErr)
	}
}

func TestDecodeTextErrors(t *testing.T) {
	good := residentCard()
	for _, c := range []struct {
		name   string
		mutate func(b []byte)
		want   error
	}{
		{"unknown card type", func(b []byte) { b[248] = 'Q' }, ErrBadCardData},
		{"valid-until not a date", func(b []byte) { copy(b[204:], h("58 00")) }, ErrBadCardData},
		{"valid-from blank", func(b []byte) {
			for i := 188; i < 204; i += 2 {
				b[i], b[i+1] = ' ', 0
			}
		}, ErrBadCardData},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, _ := good.TextBlock()
			c.mutate(b)
			if _, err := DecodeText(b); !errors.Is(err, c.want) || !errors.Is(err, ErrCardFault) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
	t.Run("wrong check digit is reported, not hidden", func(t *testing.T) {
		bad := good
		bad.IDNumber = idResident[:17] + "5"
		b, _ := bad.TextBlock()
		got, err := DecodeText(b)
		if err != nil || !errors.Is(got.IDNumberErr, idnumber.ErrChecksum) || got.IDNumber != bad.IDNumber {
			t.Fatalf("card %q idErr %v err %v", got.IDNumber, got.IDNumberErr, err)
		}
	})
}

func TestPerson(t *testing.T) {
	p := residentCard().Person()
	loc := time.FixedZone("CST", 8*3600)
	if p.IDNumber != idResident || p.Name != "张三" || p.Face != nil ||
		!p.CardValidUntil.ValidUntil(time.Date(2036, 1, 1, 23, 59, 0, 0, loc), loc) ||
		p.CardValidUntil.ValidUntil(time.Date(2036, 1, 2, 0, 0, 0, 0, loc), loc) {
		t.Fatalf("Person() = %+v", p)
	}
}

func TestAddedAddress(t *testing.T) {
	data := make([]byte, 70)
	for i := 0; i < 70; i += 2 {
		data[i] = ' '
	}
	copy(data, h("4B 6D D5 8B EF 8D 32 00 F7 53")) // 测试路2号
	if got := DecodeAddedAddress(data); got != "测试路2号" {
		t.Fatalf("got %q", got)
	}
}
