package collect

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
)

// maxFileSize bounds what a reader (fileReader, the textfile collector) keeps in memory; procfs and sysfs files
// the collectors read are far smaller.
const maxFileSize = 16 << 20

// isMissing reports whether err means that a file or directory is absent.
func isMissing(err error) bool {
	return errors.Is(err, fs.ErrNotExist)
}

// noData turns a missing source into ErrNoData and leaves other errors.
func noData(err error) error {
	if isMissing(err) {
		return fmt.Errorf("%w: %w", ErrNoData, err)
	}
	return err
}

// snippet cuts bad input to a few dozen bytes for error messages.
func snippet(b []byte) string {
	const max = 40
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}

// nextLine splits data at the first newline.
func nextLine(data []byte) (line, rest []byte) {
	i := bytes.IndexByte(data, '\n')
	if i < 0 {
		return data, nil
	}
	return data[:i], data[i+1:]
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// splitFields appends the white-space separated fields of line to dst[:0].
func splitFields(dst [][]byte, line []byte) [][]byte {
	dst = dst[:0]
	i := 0
	for i < len(line) {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		j := i
		for j < len(line) && !isSpace(line[j]) {
			j++
		}
		if j > i {
			dst = append(dst, line[i:j])
		}
		i = j
	}
	return dst
}

// parseUint parses an unsigned decimal number without allocating.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// parseHex parses an unsigned hexadecimal number, with or without 0x.
func parseHex(b []byte) (uint64, bool) {
	b = bytes.TrimPrefix(b, []byte("0x"))
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		v = v<<4 | uint64(d)
	}
	return v, true
}

// parseFloat parses a decimal number; small inputs do not allocate.
func parseFloat(b []byte) (float64, bool) {
	if v, ok := parseUint(b); ok {
		return float64(v), true
	}
	v, err := strconv.ParseFloat(string(b), 64)
	return v, err == nil
}
