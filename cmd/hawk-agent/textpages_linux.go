package main

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// trimTextPages keeps only the pages of the agent's own code and
// read-only data that it touches in its RSS.
//
// On a page fault in a file mapping Linux maps the neighbouring pages that
// are in the page cache too ("fault-around", 64 KiB by default), so a
// program that touches a few scattered functions of each 64 KiB of its
// text has most of its binary counted in its RSS (RssFile in
// /proc/PID/status): 7 of the agent's 13 MiB with every input configured.
// MADV_RANDOM turns fault-around off for the read-only mappings of the
// executable, and MADV_DONTNEED drops the pages mapped so far: they stay
// in the page cache, and a page still used comes back on its next touch
// (one minor fault). MADV_DONTNEED would discard a private page the
// process changed (a relocated page of a position-independent build), so
// it is applied only to mappings with no such page (Anonymous: 0 kB in
// /proc/self/smaps). Writable mappings (data, bss) are not touched.
// Errors are ignored: the agent works the same, only larger.
func trimTextPages() {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return
	}
	defer f.Close()
	var m textMapping
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Bytes()
		if start, end, ro, path, ok := mappingHeader(line); ok {
			m.apply()
			m = textMapping{start: start, end: end, ours: ro && path == exe}
			continue
		}
		if v, ok := bytes.CutPrefix(line, []byte("Anonymous:")); ok && m.ours {
			m.anon = string(bytes.TrimSpace(v)) != "0 kB"
			m.seen = true
		}
	}
	if sc.Err() == nil {
		m.apply()
	}
}

// textMapping is one mapping of /proc/self/smaps as trimTextPages reads it.
type textMapping struct {
	start, end uintptr
	ours       bool // a read-only mapping of the executable
	seen       bool // its Anonymous line was read
	anon       bool // it has pages the process changed
}

func (m textMapping) apply() {
	if !m.ours || !m.seen {
		return
	}
	madvise(m.start, m.end-m.start, syscall.MADV_RANDOM)
	if !m.anon {
		madvise(m.start, m.end-m.start, syscall.MADV_DONTNEED)
	}
}

// mappingHeader parses "start-end perms offset dev inode [path]".
func mappingHeader(line []byte) (start, end uintptr, readOnly bool, path string, ok bool) {
	fs := bytes.Fields(line)
	if len(fs) < 5 || len(fs[1]) != 4 {
		return 0, 0, false, "", false
	}
	lo, hi, found := bytes.Cut(fs[0], []byte{'-'})
	if !found {
		return 0, 0, false, "", false
	}
	s, err1 := strconv.ParseUint(string(lo), 16, 64)
	e, err2 := strconv.ParseUint(string(hi), 16, 64)
	if err1 != nil || err2 != nil || e <= s {
		return 0, 0, false, "", false
	}
	if len(fs) >= 6 {
		path = string(fs[5])
	}
	return uintptr(s), uintptr(e), fs[1][1] != 'w', path, true
}

func madvise(addr, n uintptr, advice int) {
	syscall.Syscall(syscall.SYS_MADVISE, addr, n, uintptr(advice)) //nolint:errcheck // best effort, see trimTextPages
}
