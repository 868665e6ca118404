package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"hawk/internal/atomicfile"
	"hawk/internal/faultfs"
)

// The TSDB's WAL format (tsdb/wlog, frozen by Prometheus): segments of
// 32 KiB pages; a page holds fragments, each a 7-byte header (type byte,
// big-endian length u16, CRC-32C u32 of the fragment) and the fragment; a
// record is one full fragment or first, middle..., last; a 0 type byte pads
// the rest of the page. The type byte's bits 3 and 4 flag snappy and zstd.
const (
	walPageSize   = 32 * 1024
	walHeaderSize = 7
	walTypeMask   = 7
	walFlagMask   = 3 << 3

	walFull   = 1
	walFirst  = 2
	walMiddle = 3
	walLast   = 4
)

var walCRC = crc32.MakeTable(crc32.Castagnoli)

// DamagedDir is the directory, inside the data directory, that keeps a
// hard link to every WAL segment the start-up check found damaged, named
// after the segment, its log and the time it was found.
const DamagedDir = "wal-damaged"

// WALCheck is what CheckWAL found and did to the write-ahead logs.
type WALCheck struct {
	Segments     int   // segments read
	TornTails    int   // segments whose torn tail (an unacknowledged, partly written record) was cut
	TailBytes    int64 // bytes cut from torn tails
	Damaged      []string
	KeptRecords  int // intact records kept in the damaged segments, including those after the damage
	LostRecords  int // incomplete records dropped from the damaged segments
	DamagedPages int // pages of the damaged segments with a bad fragment
}

// segmentScan is what scanning one segment found.
type segmentScan struct {
	records     int   // intact records
	lost        int   // incomplete records: torn, or with a fragment on a bad page
	badPages    int   // pages with a fragment that failed its checks
	damageAt    int64 // offset of the first damage; -1 if none
	cleanEnd    int64 // end of the last intact record before the first damage
	afterDamage int   // intact records that start after the first damage
	lastGoodEnd int64 // end of the last intact record
}

// scanSegment reads one segment page by page and calls emit (if not nil)
// with every intact record: its type byte's compression flags and its
// fragments' bytes, still compressed. A bad fragment (impossible type or
// length, CRC mismatch) spoils the rest of its page; the record it belongs
// to is dropped, and so are fragments on the next pages that continue a
// record whose start was lost. Records starting after the damage are kept:
// unlike the TSDB's repair, nothing intact is thrown away.
func scanSegment(r io.Reader, emit func(flags byte, rec []byte) error) (segmentScan, error) {
	sc := segmentScan{damageAt: -1}
	page := make([]byte, walPageSize)
	var (
		rec      []byte // fragments of the record being assembled
		recFlags byte
		recStart int64 = -1 // offset of its first fragment; -1 when none
		orphan   bool       // skipping the continuation of a lost record
		owned    bool       // that record was already counted in lost
	)
	damage := func(at int64) {
		if sc.damageAt < 0 {
			sc.damageAt, sc.cleanEnd = at, sc.lastGoodEnd
		}
	}
	drop := func() {
		if recStart >= 0 {
			damage(recStart)
			sc.lost++
			rec, recStart = rec[:0], -1
		}
	}
	for pno := int64(0); ; pno++ {
		n, err := io.ReadFull(r, page)
		if n == 0 {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				break
			}
			return sc, err
		}
		if err != nil && err != io.ErrUnexpectedEOF {
			return sc, err
		}
		b := page[:n]
		base := pno * walPageSize
		for off := 0; off < len(b); {
			if b[off] == 0 {
				break // padding to the end of the page
			}
			typ, flags := b[off]&walTypeMask, b[off]&walFlagMask
			bad := typ < walFull || typ > walLast || off+walHeaderSize > len(b) || flags == walFlagMask
			var frag []byte
			if !bad {
				length := int(binary.BigEndian.Uint16(b[off+1:]))
				end := off + walHeaderSize + length
				if end > len(b) {
					bad = true
				} else {
					frag = b[off+walHeaderSize : end]
					bad = crc32.Checksum(frag, walCRC) != binary.BigEndian.Uint32(b[off+3:])
				}
			}
			if bad && n < walPageSize && !crcBad(b, off) {
				// The file ends inside this fragment: a write cut short
				// (torn tail), not damage.
				damage(base + int64(off))
				if recStart < 0 {
					sc.lost++ // this fragment's record
				}
				drop()
				break
			}
			if bad {
				sc.badPages++
				damage(base + int64(off))
				owned = recStart >= 0
				drop()
				orphan = true // the next page may continue what this one held
				break
			}
			at := base + int64(off)
			off += walHeaderSize + len(frag)
			switch typ {
			case walFull, walFirst:
				drop()
				if orphan && !owned {
					sc.lost++ // a record whose end was on the bad page
				}
				orphan, owned = false, false
				rec, recFlags, recStart = append(rec[:0], frag...), flags, at
			case walMiddle, walLast:
				if recStart < 0 {
					if !orphan {
						// A continuation with no start and no damage
						// before it: its start is missing.
						damage(at)
						orphan, owned = true, false
					}
					if typ == walLast {
						if !owned {
							sc.lost++
						}
						orphan, owned = false, false
					}
					continue
				}
				rec = append(rec, frag...)
			}
			if typ == walFull || typ == walLast {
				if sc.damageAt >= 0 && recStart > sc.damageAt {
					sc.afterDamage++
				}
				if emit != nil {
					if err := emit(recFlags, rec); err != nil {
						return sc, err
					}
				}
				sc.records++
				sc.lastGoodEnd = base + int64(off)
				rec, recStart = rec[:0], -1
			}
		}
		if n < walPageSize {
			break
		}
	}
	drop() // a record still open at the end is a torn tail
	return sc, nil
}

// crcBad reports whether the fragment at off of the last (partial) page is
// complete and fails its CRC, as opposed to being cut by the end of the file.
func crcBad(b []byte, off int) bool {
	if off+walHeaderSize > len(b) {
		return false
	}
	typ := b[off] & walTypeMask
	if typ < walFull || typ > walLast || b[off]&walFlagMask == walFlagMask {
		return true
	}
	end := off + walHeaderSize + int(binary.BigEndian.Uint16(b[off+1:]))
	return end <= len(b)
}

// pageWriter writes records to a new segment in the WAL's format.
type pageWriter struct {
	f     *os.File
	fault *faultfs.Injector
	page  []byte
	alloc int
}

func (w *pageWriter) add(flags byte, rec []byte) error {
	for i := 0; i == 0 || len(rec) > 0; i++ {
		if walPageSize-w.alloc < walHeaderSize {
			if err := w.flush(); err != nil {
				return err
			}
		}
		l := min(len(rec), walPageSize-w.alloc-walHeaderSize)
		var typ byte
		switch {
		case i == 0 && l == len(rec):
			typ = walFull
		case l == len(rec):
			typ = walLast
		case i == 0:
			typ = walFirst
		default:
			typ = walMiddle
		}
		h := w.page[w.alloc:]
		h[0] = typ | flags
		binary.BigEndian.PutUint16(h[1:], uint16(l))
		binary.BigEndian.PutUint32(h[3:], crc32.Checksum(rec[:l], walCRC))
		copy(h[walHeaderSize:], rec[:l])
		w.alloc += walHeaderSize + l
		rec = rec[l:]
	}
	return nil
}

// flush writes the page padded with zeros and starts the next.
func (w *pageWriter) flush() error {
	if w.alloc == 0 {
		return nil
	}
	clear(w.page[w.alloc:])
	w.alloc = 0
	return w.fault.Write(w.f, w.page)
}

// CheckWAL checks the segments of the WAL (dir/wal) and of the
// out-of-order WBL (dir/wbl) before the TSDB opens them, because the TSDB's
// own repair truncates a damaged segment at the first bad record and
// deletes every later segment, acknowledged samples and all.
//
//   - A torn tail (an incomplete record at the end of a segment, with no
//     intact record after it: the write that failed on a full disk, or the
//     one a crash interrupted; never acknowledged, see TSDB) is cut off in
//     place, which only frees space.
//   - Any other damage (a bad page in the middle, flipped bytes) keeps
//     every intact record: the segment is rewritten without the incomplete
//     records to <segment>.salvage, the damaged original is hard-linked
//     into DamagedDir for inspection, and the salvaged copy replaces it by
//     rename. If the copy cannot be written (no space), nothing is changed
//     and CheckWAL fails, so the server refuses to start rather than let the
//     TSDB delete data; it succeeds once space is freed.
//
// Checkpoint directories are not checked. fault is the test seam (nil in
// production).
func CheckWAL(dir string, log *slog.Logger, fault *faultfs.Injector) (WALCheck, error) {
	var res WALCheck
	for _, sub := range []string{"wal", "wbl"} {
		if err := checkLog(dir, sub, log, fault, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

func checkLog(dir, sub string, log *slog.Logger, fault *faultfs.Injector, res *WALCheck) error {
	ldir := filepath.Join(dir, sub)
	ents, err := os.ReadDir(ldir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: check %s: %w", sub, err)
	}
	var segs []string
	for _, e := range ents {
		name := e.Name()
		if filepath.Ext(name) == ".salvage" {
			_ = os.Remove(filepath.Join(ldir, name)) // left by an interrupted check
			continue
		}
		if _, err := strconv.Atoi(name); err == nil && e.Type().IsRegular() {
			segs = append(segs, name)
		}
	}
	sort.Strings(segs)
	for _, name := range segs {
		path := filepath.Join(ldir, name)
		sc, err := scanFile(path, nil)
		if err != nil {
			return fmt.Errorf("store: check %s: %w", path, err)
		}
		res.Segments++
		if sc.damageAt < 0 {
			continue
		}
		if sc.afterDamage == 0 {
			// Nothing intact after the damage: cutting it off in place
			// loses nothing more than salvaging would, and frees space.
			st, err := os.Stat(path)
			if err != nil {
				return fmt.Errorf("store: check %s: %w", path, err)
			}
			if err := cutTail(path, sc.cleanEnd, fault); err != nil {
				return fmt.Errorf("store: cut torn tail of %s: %w", path, err)
			}
			cut := st.Size() - sc.cleanEnd
			res.TailBytes += cut
			if sc.badPages == 0 {
				res.TornTails++
				log.Warn("WAL: cut the torn tail of a segment: an incomplete record, never acknowledged",
					"segment", path, "offset", sc.cleanEnd, "bytes", cut, "records_kept", sc.records)
				continue
			}
			res.Damaged = append(res.Damaged, path)
			res.KeptRecords += sc.records
			res.LostRecords += sc.lost
			res.DamagedPages += sc.badPages
			log.Error("WAL: damaged end of segment cut off",
				"segment", path, "offset", sc.cleanEnd, "bytes", cut, "records_kept", sc.records,
				"records_lost", sc.lost, "damaged_pages", sc.badPages)
			continue
		}
		if err := salvage(dir, sub, name, fault); err != nil {
			log.Error("WAL: damaged segment could not be salvaged; refusing to open the TSDB, whose repair would delete every later segment",
				"segment", path, "damage_offset", sc.damageAt, "err", err)
			return fmt.Errorf("store: salvage damaged %s: %w", path, err)
		}
		res.Damaged = append(res.Damaged, path)
		res.KeptRecords += sc.records
		res.LostRecords += sc.lost
		res.DamagedPages += sc.badPages
		log.Error("WAL: damaged segment: kept every intact record, dropped the incomplete ones; the original is in "+DamagedDir,
			"segment", path, "damage_offset", sc.damageAt, "records_kept", sc.records,
			"records_after_damage_kept", sc.afterDamage, "records_lost", sc.lost, "damaged_pages", sc.badPages)
	}
	return nil
}

func scanFile(path string, emit func(flags byte, rec []byte) error) (segmentScan, error) {
	f, err := os.Open(path)
	if err != nil {
		return segmentScan{}, err
	}
	defer f.Close()
	return scanSegment(f, emit)
}

// cutTail truncates the segment at off, the end of its last intact record.
func cutTail(path string, off int64, fault *faultfs.Injector) error {
	if err := fault.Fail(faultfs.OpTruncate, path); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	err = f.Truncate(off)
	if err == nil {
		err = fault.Fail(faultfs.OpSync, path)
	}
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// salvage rewrites the damaged segment sub/name without its incomplete
// records, keeps a hard link to the original in DamagedDir and puts the
// copy in its place. On failure the partial copy is removed and the
// segment is left as it was.
func salvage(dir, sub, name string, fault *faultfs.Injector) (err error) {
	path := filepath.Join(dir, sub, name)
	tmp := path + ".salvage"
	if err := fault.Fail(faultfs.OpCreate, tmp); err != nil {
		return err
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	w := &pageWriter{f: f, fault: fault, page: make([]byte, walPageSize)}
	if _, err = scanFile(path, w.add); err != nil {
		return err
	}
	if err = w.flush(); err != nil {
		return err
	}
	if err = fault.Fail(faultfs.OpSync, tmp); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	ddir := filepath.Join(dir, DamagedDir)
	if err = os.MkdirAll(ddir, 0o755); err != nil {
		return err
	}
	keep := filepath.Join(ddir, fmt.Sprintf("%s-%s-%s", sub, name, time.Now().UTC().Format("20060102T150405.000")))
	if err = os.Link(path, keep); err != nil {
		return err
	}
	if err = fault.Fail(faultfs.OpRename, path); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	return errors.Join(atomicfile.SyncDir(filepath.Join(dir, sub)), atomicfile.SyncDir(ddir))
}
