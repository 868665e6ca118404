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
