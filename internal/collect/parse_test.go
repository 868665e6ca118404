package collect

import (
	"errors"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// The byte parsers accept what they should and refuse the rest, overflow
// included.
func TestParsers(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint64
		ok   bool
	}{{"0", 0, true}, {"18446744073709551615", 1<<64 - 1, true}, {"18446744073709551616", 0, false}, {"", 0, false}, {"12a", 0, false}, {"-1", 0, false}} {
		if v, ok := parseUint([]byte(c.in)); v != c.want || ok != c.ok {
			t.Errorf("parseUint(%q) = %d, %v; want %d, %v", c.in, v, ok, c.want, c.ok)
		}
	}
	for _, c := range []struct {
		in   string
		want uint64
		ok   bool
	}{{"0x1F", 31, true}, {"ff", 255, true}, {"ffffffffffffffff", 1<<64 - 1, true}, {"1ffffffffffffffff", 0, false}, {"0x", 0, false}, {"g", 0, false}} {
		if v, ok := parseHex([]byte(c.in)); v != c.want || ok != c.ok {
			t.Errorf("parseHex(%q) = %d, %v; want %d, %v", c.in, v, ok, c.want, c.ok)
		}
	}
	for _, c := range []struct {
		in   string
		want float64
		ok   bool
	}{{"42", 42, true}, {"-0.5", -0.5, true}, {"1e3", 1000, true}, {"x", 0, false}} {
		if v, ok := parseFloat([]byte(c.in)); v != c.want || ok != c.ok {
			t.Errorf("parseFloat(%q) = %v, %v; want %v, %v", c.in, v, ok, c.want, c.ok)
		}
	}
	var fields [][]byte
	fields = splitFields(fields, []byte(" cpu0\t12  34\r\n"))
	var got []string
	for _, f := range fields {
		got = append(got, string(f))
	}
	if !slices.Equal(got, []string{"cpu0", "12", "34"}) {
		t.Errorf("splitFields: %q", got)
	}
	if line, rest := nextLine([]byte("a b\nc")); string(line) != "a b" || string(rest) != "c" {
		t.Errorf("nextLine: %q, %q", line, rest)
	}
	if isSpace('x') || !isSpace('\t') {
		t.Error("isSpace")
	}
}

// A missing source becomes ErrNoData, other errors stay; bad input is cut
// short in messages.
func TestNoDataAndSnippet(t *testing.T) {
	if err := noData(fs.ErrNotExist); !errors.Is(err, ErrNoData) || !isMissing(err) {
		t.Errorf("noData(ErrNotExist) = %v", err)
	}
	if err := noData(fs.ErrPermission); errors.Is(err, ErrNoData) {
		t.Errorf("noData(ErrPermission) = %v", err)
	}
	if s := snippet([]byte(strings.Repeat("x", 100))); len(s) != 43 || !strings.HasSuffix(s, "...") {
		t.Errorf("snippet of 100 bytes: %q", s)
	}
}

// strcache returns one string per content and starts over past maxCached.
func TestStrcache(t *testing.T) {
	var c strcache
	a, b := c.get([]byte("eth0")), c.get([]byte("eth0"))
	if a != "eth0" || unsafe.StringData(a) != unsafe.StringData(b) {
		t.Fatal("the same name was not interned")
	}
	for i := range maxCached {
		c.get([]byte(strconv.Itoa(i)))
	}
	if len(c) > maxCached {
		t.Errorf("cache grew to %d entries, bound %d", len(c), maxCached)
	}
}
