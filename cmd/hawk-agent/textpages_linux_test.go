package main

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// TestTrimTextPages: after trimTextPages the read-only mappings of the
// executable (here the test binary) are marked for random access, which
// turns the kernel's fault-around off for them, and the writable ones are
// not.
func TestTrimTextPages(t *testing.T) {
	trimTextPages()
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cur string // the current mapping's perms, when it is the executable's
	ro, rw := 0, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		switch {
		case len(fs) >= 6 && strings.Contains(fs[0], "-") && fs[5] == exe:
			cur = fs[1]
		case len(fs) >= 1 && strings.Contains(fs[0], "-") && strings.Count(fs[0], "-") == 1 && len(fs) >= 5:
			cur = "" // another mapping
		case len(fs) >= 1 && fs[0] == "VmFlags:" && cur != "":
			random := false
			for _, fl := range fs[1:] {
				random = random || fl == "rr"
			}
			if strings.Contains(cur, "w") {
				rw++
				if random {
					t.Errorf("writable mapping %s marked random", cur)
				}
			} else {
				ro++
				if !random {
					t.Errorf("read-only mapping %s of the executable not marked random: %v", cur, fs[1:])
				}
			}
		}
	}
	if ro == 0 {
		t.Fatal("no read-only mapping of the executable found")
	}
}

func TestMappingHeader(t *testing.T) {
	for _, c := range []struct {
		line       string
		ok, ro     bool
		start, end uintptr
		path       string
	}{
		{"00400000-00c3f000 r-xp 00000000 08:01 1234 /usr/bin/hawk-agent", true, true, 0x400000, 0xc3f000, "/usr/bin/hawk-agent"},
		{"01000000-01100000 rw-p 00c00000 08:01 1234 /usr/bin/hawk-agent", true, false, 0x1000000, 0x1100000, "/usr/bin/hawk-agent"},
		{"7ffd1000-7ffd3000 r--p 00000000 00:00 0", true, true, 0x7ffd1000, 0x7ffd3000, ""},
		{"Anonymous:             0 kB", false, false, 0, 0, ""},
		{"VmFlags: rd ex mr mw me dw", false, false, 0, 0, ""},
		{"00c3f000-00400000 r-xp 00000000 08:01 1234 /x", false, false, 0, 0, ""},
	} {
		start, end, ro, path, ok := mappingHeader([]byte(c.line))
		if ok != c.ok || (ok && (ro != c.ro || start != c.start || end != c.end || path != c.path)) {
			t.Errorf("%q: %x-%x ro %v %q ok %v", c.line, start, end, ro, path, ok)
		}
	}
}
