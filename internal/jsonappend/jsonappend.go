// Package jsonappend appends JSON values to a byte slice, byte for byte as
// encoding/json would write them, without reflection: for the API's large
// answers (fleet pages, series lookups), where json.Marshal's reflection
// and per-value allocations cost more than finding the data.
package jsonappend

import (
	"encoding/json"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"
)

// String appends s as a JSON string: as is when it holds only printable
// ASCII that encoding/json leaves alone, else through json.Marshal (which
// escapes <, > and &, replaces invalid UTF-8, and escapes U+2028/U+2029).
func String(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// Labels appends ls as the JSON object json.Marshal makes of it
// (labels.Labels encodes as its map, whose keys encoding/json sorts;
// a label set is sorted by name already, and has no name twice).
func Labels(b []byte, ls labels.Labels) []byte {
	b = append(b, '{')
	first := true
	ls.Range(func(l labels.Label) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = String(b, l.Name)
		b = append(b, ':')
		b = String(b, l.Value)
	})
	return append(b, '}')
}
