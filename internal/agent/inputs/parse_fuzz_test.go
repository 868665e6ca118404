package inputs

import (
	"bytes"
	"testing"

	"hawk/internal/wire"
)

// FuzzParse: any body, in the text or OpenMetrics format, is parsed or
// refused with an error; never a panic, never more series than the cap.
func FuzzParse(f *testing.F) {
	f.Add([]byte("# TYPE a counter\na_total{x=\"1\"} 2 1700000000000\n"), false)
	f.Add([]byte("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n"), false)
	f.Add([]byte("# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 1\ns_count 1\n"), false)
	f.Add([]byte("# TYPE c counter\nc_total 7\n# EOF\n"), true)
	f.Fuzz(func(t *testing.T, body []byte, om bool) {
		const maxSeries = 50
		b, err := readCapped(bytes.NewReader(body), nil, 1<<16, maxSeries)
		if err != nil {
			return
		}
		c := converter{base: []wire.Label{{Name: "job", Value: "j"}}, now: 1, maxSeries: maxSeries}
		if err := c.parse(newParser(), b, om); err != nil {
			return
		}
		if len(c.out) > maxSeries {
			t.Fatalf("%d series past the cap of %d", len(c.out), maxSeries)
		}
	})
}
