package watch

import (
	"fmt"
	"strings"
	"time"
)

// Lang is the language of what a person reads: EN or ZH.
type Lang string

// The languages of the notes and summaries.
const (
	EN Lang = "en"
	ZH Lang = "zh"
)

// ParseLang reads a -lang value.
func ParseLang(s string) (Lang, error) {
	switch Lang(strings.ToLower(strings.TrimSpace(s))) {
	case EN:
		return EN, nil
	case ZH:
		return ZH, nil
	}
	return "", fmt.Errorf("language %q: give en or zh", s)
}

func pick(zh bool, z, e string) string {
	if zh {
		return z
	}
	return e
}

func onlineWords(s string, zh bool) string {
	switch s {
	case "online":
		return pick(zh, "在线", "online")
	case "offline":
		return pick(zh, "离线", "OFFLINE")
	}
	return pick(zh, "在线状态未知", "availability not known")
}

// verdictWords says a verdict (checks: pass, reject, review) in words.
func verdictWords(v string, zh bool) string {
	switch v {
	case "pass":
		return pick(zh, "放行", "passed")
	case "reject":
		return pick(zh, "拒绝", "refused")
	case "review":
		return pick(zh, "待人工复核", "held for review")
	case "":
		return pick(zh, "无结论", "no verdict")
	}
	return v
}

func verdictRank(v string) int {
	switch v {
	case "pass":
		return 0
	case "reject":
		return 1
	case "review":
		return 2
	}
	return 3
}

func eventWords(name string, zh bool) string {
	if !zh {
		return name
	}
	switch name {
	case "inspection":
		return "检查"
	case "passage":
		return "通行"
	case "alarm":
		return "告警"
	case "decision":
		return "人工决定"
	}
	return name
}

// lastingWords are the alarms that last until their condition ends, in
// words, for those the watch knows only from a status (raised before it
// started: the status carries no text).
var lastingWords = map[string][2]string{
	"device_fault":   {"设备故障", "A device is in fault"},
	"broker_down":    {"无法连接园区 MQTT 服务器", "The park's MQTT broker is unreachable"},
	"registry_stale": {"登记库已过期", "The registry is out of date"},
	"disk_low":       {"磁盘空间不足", "The disk is nearly full"},
	"lockdown":       {"闸口已封锁", "The gate is locked down"},
	"evacuation":     {"疏散进行中", "An evacuation is on"},
	"clock_unsynced": {"时钟未同步", "The gate's clock is not synchronised"},
	"overstay":       {"车辆在园区停留超时", "A vehicle has stayed in the park too long"},
}

// alarmWords is an alarm in words: its text when heard, else the words of
// its kind (and its code when that says more), else its kind and code;
// its lane when it has one.
func alarmWords(a Alarm, zh bool) string {
	var s string
	w, known := lastingWords[a.Kind]
	switch {
	case a.Text != nil && zh && a.Text.ZH != "":
		s = a.Text.ZH
	case a.Text != nil && a.Text.EN != "":
		s = a.Text.EN
	case known:
		s = pick(zh, w[0], w[1])
		if a.Code != "" && a.Code != a.Kind {
			s += pick(zh, "（"+a.Code+"）", " ("+a.Code+")")
		}
	case a.Code != "" && a.Code != a.Kind:
		s = a.Kind + " (" + a.Code + ")"
	default:
		s = a.Kind
	}
	if a.Lane != "" {
		s += pick(zh, "（"+a.Lane+"）", " ("+a.Lane+")")
	}
	return s
}

// when shows a gate's RFC 3339 time as date and time in the gate's own
// zone, without fractions; a time it cannot read as it came.
func when(ts string) string {
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return ts
	}
	return t.Format("2006-01-02 15:04:05")
}

// rangesWords lists missing ranges: "5", "7-9", at most the first five.
func rangesWords(rs []Range) string {
	var out []string
	for i, r := range rs {
		if i == 5 {
			out = append(out, "…")
			break
		}
		if r.From == r.To {
			out = append(out, fmt.Sprint(r.From))
		} else {
			out = append(out, fmt.Sprintf("%d-%d", r.From, r.To))
		}
	}
	return strings.Join(out, ", ")
}
