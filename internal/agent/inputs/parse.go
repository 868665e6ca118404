package inputs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"strconv"

	"hawk/internal/wire"
)

// errTooManySeries is a result over the input's series cap.
var errTooManySeries = errors.New("too many series")

// errTooLarge is a body or output over the byte cap.
var errTooLarge = errors.New("too large")

// readCapped reads r into buf (reused) up to max bytes; more is errTooLarge.
// It also counts sample lines as they arrive (lines that are neither empty
// nor comments) and stops with errTooManySeries past maxSeries, before
// anything is parsed.
func readCapped(r io.Reader, buf []byte, max int64, maxSeries int) ([]byte, error) {
	buf = buf[:0]
	lines, lineStart := 0, 0
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		chunk := buf[len(buf) : len(buf)+n]
		buf = buf[:len(buf)+n]
		for {
			i := bytes.IndexByte(chunk, '\n')
			if i < 0 {
				break
			}
			end := len(buf) - len(chunk) + i
			if isSampleLine(buf[lineStart:end]) {
				lines++
			}
			lineStart = end + 1
			chunk = chunk[i+1:]
		}
		if lines > maxSeries {
			return buf, fmt.Errorf("%w: more than %d", errTooManySeries, maxSeries)
		}
		if int64(len(buf)) > max {
			return buf, fmt.Errorf("%w: more than %d bytes", errTooLarge, max)
		}
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

func isSampleLine(l []byte) bool {
	l = bytes.TrimLeft(l, " \t")
	return len(l) > 0 && l[0] != '#'
}

// converter turns decoded metric families into Samples.
type converter struct {
	base      []wire.Label // labels the input adds (job, instance, target labels)
	own       bool         // Sample.Own
	now       int64        // ms, for samples without a timestamp
	maxSeries int
	out       []Sample
}

// parse decodes body, in the text format or (om) OpenMetrics 1.0, with p,
// the parser its input keeps between runs.
func (c *converter) parse(p *parser, body []byte, om bool) error {
	return p.parse(body, om, c)
}

// isOpenMetrics tells the format of a response from its Content-Type:
// OpenMetrics 1.0 (or 0.0.1), or else the text format, which is also what
// a missing or unknown type is read as. Another OpenMetrics version is
// refused.
func isOpenMetrics(contentType string) (bool, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/openmetrics-text" {
		return false, nil
	}
	switch v := params["version"]; v {
	case "", "0.0.1", "1.0.0":
		return true, nil
	default:
		return false, fmt.Errorf("unsupported OpenMetrics version %q", v)
	}
}

func (c *converter) clashes(name string) bool {
	if c.own && (name == "job" || name == "instance") {
		return true
	}
	for _, b := range c.base {
		if b.Name == name {
			return true
		}
	}
	return false
}

func fmtFloat(f float64) string {
	switch {
	case math.IsInf(f, +1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
