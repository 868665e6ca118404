package options

import (
	"errors"
	"math"
	"strconv"
	"time"
)

// durationUnits are the units of a Prometheus duration ("15d", "1h30m"),
// largest first; a duration names each at most once, in this order.
var durationUnits = [...]struct {
	name string
	ms   int64
	// exact: written by formatDuration only when it divides the rest, as
	// 90d reads better than 12w6d.
	exact bool
}{
	{"y", 365 * 24 * 3600 * 1000, true},
	{"w", 7 * 24 * 3600 * 1000, true},
	{"d", 24 * 3600 * 1000, false},
	{"h", 3600 * 1000, false},
	{"m", 60 * 1000, false},
	{"s", 1000, false},
	{"ms", 1, false},
}

var errDuration = errors.New("not a duration")

// parseDuration reads a duration as Prometheus writes them: "0", or
// numbers followed by the units y, w, d, h, m, s, ms, each at most once,
// largest first ("1d12h").
func parseDuration(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	if s == "" {
		return 0, errDuration
	}
	var ms int64
	next := 0 // the next unit allowed
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, errDuration
		}
		n, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil {
			return 0, errDuration
		}
		s = s[i:]
		j := 0
		for j < len(s) && (s[j] < '0' || s[j] > '9') {
			j++
		}
		unit := s[:j]
		s = s[j:]
		k := next
		for k < len(durationUnits) && durationUnits[k].name != unit {
			k++
		}
		if k == len(durationUnits) {
			return 0, errDuration
		}
		next = k + 1
		u := durationUnits[k].ms
		if n > math.MaxInt64/u || ms > math.MaxInt64/int64(time.Millisecond)-n*u {
			return 0, errors.New("duration out of range")
		}
		ms += n * u
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// formatDuration writes a whole number of milliseconds as parseDuration
// reads it, in the largest units ("15d", "1h30m"; "0s" for zero).
func formatDuration(d time.Duration) string {
	ms := int64(d / time.Millisecond)
	if ms == 0 {
		return "0s"
	}
	var b []byte
	for _, u := range durationUnits {
		if u.exact && ms%u.ms != 0 {
			continue
		}
		if v := ms / u.ms; v > 0 {
			b = strconv.AppendInt(b, v, 10)
			b = append(b, u.name...)
			ms -= v * u.ms
		}
	}
	return string(b)
}
