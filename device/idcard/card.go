package idcard

import (
	"strings"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/idnumber"
	"github.com/hazgate/hazgate/registry"
)

// Kind is the card's layout, from the type character at text offset 248.
type Kind string

// The card kinds.
const (
	// KindResident is the resident ID card (type character a space).
	KindResident Kind = "resident"
	// KindHKMOTW is the Hong Kong / Macau / Taiwan residence permit ('J').
	KindHKMOTW Kind = "hk_mo_tw_residence"
	// KindForeign2017 is the foreigner's permanent residence card, 2017
	// layout ('I').
	KindForeign2017 Kind = "foreign_permanent_2017"
	// KindForeign2023 is the foreigner's permanent residence ID card, 2023
	// layout ('Y'; seen in one source only).
	KindForeign2023 Kind = "foreign_permanent_2023"
)

// Card is what the reader read from one card. Fields a layout does not have
// are empty.
type Card struct {
	Kind Kind `json:"kind"`
	// IDNumber is the 18-character ID number (resident, J and Y cards; a
	// lower-case x is normalised) or the permanent-residence number (I).
	IDNumber string `json:"id_number"`
	// IDNumberErr is why IDNumber fails its ISO 7064 MOD 11-2 check digit
	// (nil when it passes, and for I cards, whose numbers have none). The
	// card is still reported: the identity check fails it (id_checksum).
	IDNumberErr error `json:"-"`
	// Name is the name in Chinese (for an I card without one, the English
	// name).
	Name        string `json:"name"`
	EnglishName string `json:"english_name,omitempty"`
	// GenderCode is 1 male, 2 female, 0 unknown, 9 unstated; Gender is its
	// name (男, 女, 未知, 未说明).
	GenderCode string `json:"gender_code"`
	Gender     string `json:"gender"`
	// NationCode is 01..56, 97 or 98 (resident cards); Nation its name.
	NationCode string `json:"nation_code,omitempty"`
	Nation     string `json:"nation,omitempty"`
	// Birth is the date of birth.
	Birth        registry.Validity `json:"birth"`
	Address      string            `json:"address,omitempty"`
	AddedAddress string            `json:"added_address,omitempty"`
	Authority    string            `json:"authority,omitempty"`
	ValidFrom    registry.Validity `json:"valid_from"`
	// ValidUntil is zero when LongTerm (长期).
	ValidUntil registry.Validity `json:"valid_until"`
	LongTerm   bool              `json:"long_term"`

	// J: the pass number and the issue count.
	PassNumber string `json:"pass_number,omitempty"`
	IssueCount string `json:"issue_count,omitempty"`
	// I: nationality (3 letters), card version and authority code.
	Nationality   string `json:"nationality,omitempty"`
	CardVersion   string `json:"card_version,omitempty"`
	AuthorityCode string `json:"authority_code,omitempty"`
	// Y: renewal count and country code.
	RenewalCount string `json:"renewal_count,omitempty"`
	CountryCode  string `json:"country_code,omitempty"`

	// Photo is the raw WLT photo (the gate never decodes it).
	Photo []byte `json:"-"`
	// Fingerprints is the raw fingerprint data, when read with them.
	Fingerprints []byte `json:"-"`
	// Text is the raw 256-byte text block.
	Text []byte `json:"-"`
}

// Person returns the card as the lane's evidence of a person (no face score
// yet).
func (c Card) Person() checks.PersonEvidence {
	return checks.PersonEvidence{
		IDNumber:       c.IDNumber,
		Name:           c.Name,
		CardValidFrom:  c.ValidFrom,
		CardValidUntil: c.ValidUntil,
	}
}

// checkIDNumber normalises a trailing x and validates the check digit of an
// 18-character number.
func (c *Card) checkIDNumber() {
	n := strings.TrimSpace(c.IDNumber)
	if len(n) == 18 && n[17] == 'x' {
		n = n[:17] + "X"
	}
	c.IDNumber = n
	c.IDNumberErr = nil
	if c.Kind == KindForeign2017 {
		return
	}
	c.IDNumberErr = idnumber.Validate(n)
}

var genders = map[string]string{"0": "未知", "1": "男", "2": "女", "9": "未说明"}

// nations maps the nation codes of GB 3304 to their names.
var nations = map[string]string{
	"01": "汉", "02": "蒙古", "03": "回", "04": "藏", "05": "维吾尔", "06": "苗", "07": "彝",
	"08": "壮", "09": "布依", "10": "朝鲜", "11": "满", "12": "侗", "13": "瑶", "14": "白",
	"15": "土家", "16": "哈尼", "17": "哈萨克", "18": "傣", "19": "黎", "20": "傈僳", "21": "佤",
	"22": "畲", "23": "高山", "24": "拉祜", "25": "水", "26": "东乡", "27": "纳西", "28": "景颇",
	"29": "柯尔克孜", "30": "土", "31": "达斡尔", "32": "仫佬", "33": "羌", "34": "布朗", "35": "撒拉",
	"36": "毛南", "37": "仡佬", "38": "锡伯", "39": "阿昌", "40": "普米", "41": "塔吉克", "42": "怒",
	"43": "乌孜别克", "44": "俄罗斯", "45": "鄂温克", "46": "德昂", "47": "保安", "48": "裕固",
	"49": "京", "50": "塔塔尔", "51": "独龙", "52": "鄂伦春", "53": "赫哲", "54": "门巴", "55": "珞巴",
	"56": "基诺", "97": "其他", "98": "外国血统中国籍人士",
}

// NationName returns the name of a nation code ("" when unknown).
func NationName(code string) string { return nations[code] }

// NationCode returns the code of a nation name ("" when unknown).
func NationCode(name string) string {
	for k, v := range nations {
		if v == name {
			return k
		}
	}
	return ""
}

// GenderName returns the name of a gender code ("" when unknown).
func GenderName(code string) string { return genders[code] }
