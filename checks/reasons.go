package checks

import "strings"

// Reason codes. They are stable: records, payloads, scenarios and the kiosk
// use them. docs/checks.md lists them with the check that gives each.
const (
	// Any registry-backed check.
	ReasonNotRegistered = "not_registered"       // plate, ID number, tank or waybill not in the registry
	ReasonRegistryStale = "registry_stale"       // the registry's last sync is older than registry_max_age
	ReasonRegistryError = "registry_unavailable" // the registry could not be read
	ReasonDataMissing   = "data_missing"         // the registry record lacks a field the rule needs
	// Evidence that never arrived.
	ReasonPlateMissing   = "plate_missing"
	ReasonDriverMissing  = "driver_missing"
	ReasonEscortMissing  = "escort_missing"
	ReasonWaybillMissing = "waybill_missing"
	ReasonCargoUnknown   = "cargo_unknown" // no registered waybill, so the goods are not known
	// vehicle_documents
	ReasonLicenceExpired     = "licence_expired"
	ReasonPermitExpired      = "permit_expired"
	ReasonClassNotPermitted  = "class_not_permitted"
	ReasonPlateColorMismatch = "plate_color_mismatch" // the camera read another plate colour than the registry's: a cloned plate?
	ReasonPlacardNotSeen     = "placard_not_seen"     // checks.require_placard, and the camera saw no danger mark on a tanker
	// personnel_qualification
	ReasonCertificateMissing  = "certificate_missing"
	ReasonCertificateExpired  = "certificate_expired"
	ReasonCertificateNotValid = "certificate_not_yet_valid"
	ReasonEscortIsDriver      = "escort_is_driver"
	// inspection_validity
	ReasonInspectionExpired = "inspection_expired"
	// waybill_consistency
	ReasonWaybillNotYetValid = "waybill_not_yet_valid"
	ReasonWaybillExpired     = "waybill_expired"
	ReasonVehicleMismatch    = "vehicle_mismatch"
	ReasonTrailerMismatch    = "trailer_mismatch"
	ReasonDriverMismatch     = "driver_mismatch"
	ReasonEscortMismatch     = "escort_mismatch"
	ReasonOverloaded         = "overloaded"
	ReasonOverweight         = "overweight"         // the weighbridge's gross weight is over max_gross_kg
	ReasonWeightMismatch     = "weight_mismatch"    // the cargo weighed is off the waybill's total
	ReasonWeightUnavailable  = "weight_unavailable" // a lane with a weighbridge got no stable reading
	// tank_media
	ReasonMediumNotSuitable = "medium_not_suitable"
	// identity
	ReasonIDChecksum      = "id_checksum"
	ReasonCardExpired     = "card_expired"
	ReasonCardNotYetValid = "card_not_yet_valid"
	ReasonFaceMismatch    = "face_mismatch"
	ReasonFaceUnavailable = "face_unavailable"
	// park_rules
	ReasonBlacklisted  = "blacklisted"
	ReasonOutsideHours = "outside_hours"
	// verdict
	ReasonDeadlineExceeded = "deadline_exceeded"
	// Any check that judges a date or the time of day (clock.go).
	ReasonClockUnsynced = "clock_unsynced"
)

// messages holds each code's text; {s} is replaced by the subject's name in
// that language and {d} by the detail.
var messages = map[string][2]string{
	ReasonNotRegistered:       {"{s}未在登记库中", "{s} is not registered"},
	ReasonRegistryStale:       {"登记库已过期（最后同步过久），无法确认", "the registry is stale (last sync too old): cannot confirm"},
	ReasonRegistryError:       {"登记库读取失败，无法确认", "the registry could not be read: cannot confirm"},
	ReasonDataMissing:         {"{s}登记资料缺少{d}", "{s}'s record lacks {d}"},
	ReasonPlateMissing:        {"未识别到车牌", "no plate was read"},
	ReasonDriverMissing:       {"驾驶员未刷身份证", "the driver presented no ID card"},
	ReasonEscortMissing:       {"押运员未刷身份证", "the escort presented no ID card"},
	ReasonWaybillMissing:      {"未扫描电子运单", "no waybill was scanned"},
	ReasonCargoUnknown:        {"运单无效，无法确认货物", "no registered waybill, so the cargo is unknown"},
	ReasonLicenceExpired:      {"{s}行驶证已过期", "{s}'s vehicle licence has expired"},
	ReasonPermitExpired:       {"{s}道路运输证已过期", "{s}'s road-transport permit has expired"},
	ReasonClassNotPermitted:   {"{s}道路运输证经营范围不含{d}类危险货物", "{s}'s road-transport permit does not cover class {d}"},
	ReasonPlateColorMismatch:  {"{s}号牌颜色与登记不符（{d}）", "{s}'s plate colour does not match the registry ({d})"},
	ReasonPlacardNotSeen:      {"未见危险品标志（{s}）", "no danger-mark placard was seen on {s}"},
	ReasonCertificateMissing:  {"{s}无相应从业资格证", "{s} holds no qualification certificate for the role"},
	ReasonCertificateExpired:  {"{s}从业资格证已过期", "{s}'s qualification certificate has expired"},
	ReasonCertificateNotValid: {"{s}从业资格证尚未生效", "{s}'s qualification certificate is not yet valid"},
	ReasonEscortIsDriver:      {"押运员与驾驶员为同一人", "the escort is the driver"},
	ReasonInspectionExpired:   {"{s}检验已过有效期", "{s}'s inspection validity has expired"},
	ReasonWaybillNotYetValid:  {"电子运单尚未生效", "the waybill is not yet valid"},
	ReasonWaybillExpired:      {"电子运单已过期", "the waybill has expired"},
	ReasonVehicleMismatch:     {"运单车辆与识别车牌不符", "the waybill names another vehicle"},
	ReasonTrailerMismatch:     {"运单挂车与识别挂车不符", "the waybill names another trailer"},
	ReasonDriverMismatch:      {"运单驾驶员与刷卡驾驶员不符", "the waybill names another driver"},
	ReasonEscortMismatch:      {"运单押运员与刷卡押运员不符", "the waybill names another escort"},
	ReasonOverloaded:          {"运单货物总量超过核定载质量（{d}）", "the waybill's goods exceed the rated load ({d})"},
	ReasonOverweight:          {"{s}地磅总重超过最大允许总质量（{d}）", "{s}'s gross weight on the weighbridge is over its maximum ({d})"},
	ReasonWeightMismatch:      {"地磅估算货重与运单总量不符（估算 ≠ 运单：{d}）", "the cargo weighed does not match the waybill (weighed ≠ waybill: {d})"},
	ReasonWeightUnavailable:   {"地磅未取得稳定读数，无法确认重量", "no stable weighbridge reading: the weight cannot be confirmed"},
	ReasonMediumNotSuitable:   {"{d}不在罐体适装介质列表中", "{d} is not in the tank's list of suitable media"},
	ReasonIDChecksum:          {"{s}身份证号码校验位错误", "{s}'s ID number has a wrong check digit"},
	ReasonCardExpired:         {"{s}身份证已过期", "{s}'s ID card has expired"},
	ReasonCardNotYetValid:     {"{s}身份证尚未生效", "{s}'s ID card is not yet valid"},
	ReasonFaceMismatch:        {"{s}人脸与身份证照片不符（{d}）", "{s}'s face does not match the card photo ({d})"},
	ReasonFaceUnavailable:     {"{s}人脸比对无结果", "{s}'s face match gave no score"},
	ReasonBlacklisted:         {"{s}在黑名单中：{d}", "{s} is blacklisted: {d}"},
	ReasonOutsideHours:        {"不在园区准入时段内", "outside the park's opening hours"},
	ReasonDeadlineExceeded:    {"超过检查时限，证据不全", "the deadline passed before the evidence was complete"},
	ReasonClockUnsynced:       {"闸口时钟未同步，无法判断有效期", "the gate's clock is not synchronised: validity dates cannot be judged"},
}

// fill puts subject for each {s} of msg and detail for each {d}, in one
// pass (what is put in is not read again), as strings.NewReplacer("{s}",
// subject, "{d}", detail).Replace(msg) does, without building a replacer
// for every reason.
func fill(msg, subject, detail string) string {
	if !strings.Contains(msg, "{") {
		return msg
	}
	var b strings.Builder
	b.Grow(len(msg) + len(subject) + len(detail))
	for {
		i := strings.Index(msg, "{")
		if i < 0 || i+3 > len(msg) {
			b.WriteString(msg)
			return b.String()
		}
		b.WriteString(msg[:i])
		switch msg[i : i+3] {
		case "{s}":
			b.WriteString(subject)
			msg = msg[i+3:]
		case "{d}":
			b.WriteString(detail)
			msg = msg[i+3:]
		default:
			b.WriteByte('{')
			msg = msg[i+1:]
		}
	}
}

// subjects names what a reason is about, in Chinese and English.
var subjects = map[string][2]string{
	"tractor": {"牵引车", "the tractor"},
	"trailer": {"挂车", "the trailer"},
	"vehicle": {"车辆", "the vehicle"},
	"tank":    {"罐体", "the tank"},
	"driver":  {"驾驶员", "the driver"},
	"escort":  {"押运员", "the escort"},
	"waybill": {"电子运单", "the waybill"},
	"carrier": {"承运单位", "the carrier"},
}

// NewReason makes the reason for code about subject, with detail filled into
// its message (a class, a UN number, a score...).
func NewReason(code, subject, detail string) Reason {
	m, ok := messages[code]
	if !ok {
		m = [2]string{code, code}
	}
	s, ok := subjects[subject]
	if !ok {
		s = [2]string{subject, subject}
	}
	zh := fill(m[0], s[0], detail)
	en := fill(m[1], s[1], detail)
	if en != "" && en[0] >= 'a' && en[0] <= 'z' {
		en = strings.ToUpper(en[:1]) + en[1:]
	}
	return Reason{Code: code, Subject: subject, ZH: zh, EN: en}
}
