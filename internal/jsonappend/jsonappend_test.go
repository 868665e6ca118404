package jsonappend

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
)

// awkward strings: what encoding/json escapes, or replaces, in its own way.
var awkward = []string{
	"", `quo"te`, `back\slash`, "ctl\x00\x01\x1f\x7f", "tab\tnl\nret\r", "<script>&amp;</script>",
	"bad\xffutf8\xc3", "line\u2028sep\u2029", "snow\u2603man", "emoji \U0001F600", strings.Repeat("x", 300),
	"a<b", "a>b", "a&b", "\u2028", "\u00e9", "\ufffd",
}

// TestStringMatchesMarshal: String is json.Marshal for every single byte,
// the awkward strings and a few runes.
func TestStringMatchesMarshal(t *testing.T) {
	in := append([]string(nil), awkward...)
	for c := range 256 {
		in = append(in, "x"+string([]byte{byte(c)})+"y")
	}
	for _, s := range in {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := String([]byte("p"), s); string(got) != "p"+string(want) {
			t.Errorf("%q: %s, want %s", s, got[1:], want)
		}
	}
}

// TestLabelsMatchesMarshal: Labels is json.Marshal of the label set, for
// the empty set, awkward names and values, and names whose byte order
// differs from their rune order.
func TestLabelsMatchesMarshal(t *testing.T) {
	sets := []labels.Labels{labels.EmptyLabels(), labels.FromStrings("__name__", "up"),
		labels.FromStrings("a", "1", "B", "2", "\u00e9", "3", "z\xff", "4", "_", "")}
	for i, s := range awkward {
		sets = append(sets, labels.FromStrings("__name__", "m", "k"+s, s, "v", awkward[(i+1)%len(awkward)]))
	}
	for _, ls := range sets {
		want, err := json.Marshal(ls)
		if err != nil {
			t.Fatal(err)
		}
		if got := Labels([]byte("p"), ls); string(got) != "p"+string(want) {
			t.Errorf("%v: %s, want %s", ls, got[1:], want)
		}
	}
}

// seriesAnswer is 10,000 label sets shaped like node_exporter's series
// with hawk's identity labels.
func seriesAnswer() []labels.Labels {
	out := make([]labels.Labels, 10000)
	for i := range out {
		out[i] = labels.FromStrings("__name__", "node_cpu_seconds_total", "agent_id", "host-0042",
			"cpu", strings.Repeat("7", 1+i%3), "instance", "host-0042:9100", "job", "node", "mode", "iowait")
	}
	return out
}

// BenchmarkLabels encodes an answer of 10,000 label sets with Labels, as
// /api/v1/series does; BenchmarkLabelsMarshal with json.Marshal, as it did.
func BenchmarkLabels(b *testing.B) {
	sets := seriesAnswer()
	b.ReportAllocs()
	for b.Loop() {
		raw := []byte{'['}
		for i, ls := range sets {
			if i > 0 {
				raw = append(raw, ',')
			}
			raw = Labels(raw, ls)
		}
		_ = append(raw, ']')
	}
}

func BenchmarkLabelsMarshal(b *testing.B) {
	sets := seriesAnswer()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(sets); err != nil {
			b.Fatal(err)
		}
	}
}
