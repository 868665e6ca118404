package bench

import (
	"strconv"

	"hawk/internal/wire"
)

// AppendInfluxPrefix appends the series part of an Influx line for def,
// "measurement,tag=value,... field=", to dst. Labels with empty values are
// left out, as Influx has no empty tags. VictoriaMetrics stores the line as
// the series measurement_field{tags}, or measurement{tags} with
// -influxSkipSingleField, which is how hawk-bench sends the series a v2
// agent sends.
func AppendInfluxPrefix(dst []byte, def *wire.SeriesDef, field string) []byte {
	dst = appendInfluxEscaped(dst, def.Name, false)
	for _, l := range def.Labels {
		if l.Value == "" {
			continue
		}
		dst = append(dst, ',')
		dst = appendInfluxEscaped(dst, l.Name, true)
		dst = append(dst, '=')
		dst = appendInfluxEscaped(dst, l.Value, true)
	}
	dst = append(dst, ' ')
	dst = appendInfluxEscaped(dst, field, true)
	return append(dst, '=')
}

// AppendInfluxLine appends one complete line: prefix (from
// AppendInfluxPrefix), the value and the timestamp in Unix milliseconds,
// written as nanoseconds, the precision Influx line protocol over TCP has.
func AppendInfluxLine(dst, prefix []byte, v float64, ms int64) []byte {
	dst = append(dst, prefix...)
	dst = strconv.AppendFloat(dst, v, 'f', -1, 64)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, ms, 10)
	return append(dst, "000000\n"...)
}

// appendInfluxEscaped escapes commas and spaces, and in tags and field keys
// also equals signs, with a backslash.
func appendInfluxEscaped(dst []byte, s string, tag bool) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ',' || c == ' ' || (tag && c == '=') {
			dst = append(dst, '\\')
		}
		dst = append(dst, c)
	}
	return dst
}
