// Package spool is the agent's crash-safe on-disk buffer of batches that the
// server has not yet acknowledged.
//
// # Model
//
// The collector calls Append for each batch; Append assigns the next
// sequence number and writes the record, and never waits on the network.
// The sender reads records with a Cursor, sends them, and calls Ack(seq)
// when the server has durably stored everything up to seq. Acknowledged
// records are deleted a whole segment at a time. Spool.Wait tells the
// sender that new records exist, so it never polls.
//
// Sequence numbers start at 1, increase by one per Append and are never
// assigned twice, across restarts, crashes, acknowledgement of everything
// and deletion of every segment: the server relies on this for exactly-once
// storage. They may skip numbers after recovery (see below), never go back.
//
// The spool is bounded: when the segment files plus a new record would
// exceed Options.MaxBytes, or a segment's newest record is older than
// Options.MaxAge, the oldest whole segments are deleted and their
// unacknowledged records counted in Stats.DroppedSize or DroppedAge. Both
// bounds are applied by Open, by Append and by Ack; the granularity is one
// segment (Options.SegmentSize, 4 MiB by default).
//
// # Concurrency and lifetimes
//
// All Spool methods are safe for concurrent use. Writers (Append, Ack,
// Close) are serialised and hold a writer lock during their file I/O;
// Cursor.Next, Stats and Wait take only a short metadata lock that is never
// held during I/O, so a sender reading a cursor never blocks the collector's
// Append and vice versa. A Cursor belongs to one goroutine. The payload
// returned by Cursor.Next is valid until the next call to Next or Close and
// must not be modified; Append does not retain its argument.
//
// The spool starts no goroutines. One process at a time may open a
// directory: Open takes a flock(2) on dir/LOCK and fails with ErrLocked.
//
// # Durability and cost of Options.Sync
//
// Append writes each record with one write(2). Once it returns, the record
// survives the process being killed (kill -9) at any instant, Sync or not.
// With Sync, Append also fsyncs, so the record survives power loss. The
// zero Options leave Sync off, and so does the agent unless told
// otherwise: it calls Spool.Sync after an Append only while the server has
// not acknowledged the record before (see internal/agent). Sync costs one
// fsync per batch, 0.4-1 ms on the development VM (ext4 on virtio, 2
// shared cores; BenchmarkAppend with Sync: 256 B 0.4-0.8 ms/op, 4 KiB
// 0.65-1 ms/op; without: 256 B 4-5 us/op, 4 KiB 15-17 us/op, seal fsyncs
// included), which is nothing at one batch per 10 s but caps a Sync spool
// at about 1000-2500 appends/s.
//
// Without Sync, a segment is fsynced when it is sealed and on Close, so a
// machine crash may lose records of the active segment only. So that
// sequence numbers stay unique even then, Append reserves them in META 1024
// at a time: a restart after a machine crash or kill may skip up to 1024
// numbers, a restart after Close skips none.
//
// Memory does not grow with the number of records: the spool keeps a few
// words per segment file (128 for a full default spool) and one 64 KiB
// read window per Cursor. Opening and reading a full 512 MiB spool
// allocates about 256 KiB (TestFullSpoolMemory). Open reads every segment
// once to check it: 0.13 s for a full spool with a warm page cache, bound
// by the disk when cold.
//
// # Write errors
//
// A failed write or fsync (a full or failing disk) fails that call and is
// counted in Stats.WriteErrors; it is not sticky. The next Append, Sync or
// Ack first cuts the active segment back to its last complete record (a
// failed write may have written part of one; the file offset goes back
// too) and counts Stats.Recovered, then proceeds: once space is freed the
// spool works again with no reopen, and every record written before is
// kept. Only a failed cut is returned again. Options.Fault injects such
// faults in tests (package faultfs).
//
// # Files
//
// A spool directory holds:
//
//	%020d.seg   segment files, named after the seq of their first record
//	META        acknowledged seq and sequence floor, replaced atomically
//	LOCK        flock(2) target, empty
//	id          agent id, see LoadOrCreateID
//
// Other names are ignored; META.tmp is a leftover of an interrupted update
// and is removed by Open.
//
// # Segment format (frozen)
//
// A segment is a sequence of records with no file header. All integers are
// little-endian. A record is a 24-byte header followed by the payload:
//
//	offset size field
//	0      4    CRC-32C (Castagnoli) of bytes 4 .. end of payload
//	4      4    payload length, at most MaxPayload (8 MiB)
//	8      8    sequence number
//	16     8    write time, unix milliseconds (signed)
//	24     n    payload
//
// Within one segment sequence numbers are consecutive, starting at the
// number in the file name. Records never span segments; a record larger
// than SegmentSize gets a segment of its own. Each Open starts a new segment
// at the first Append, so a segment is only ever appended to by one process.
//
// # META format (frozen)
//
// 28 bytes: the magic "HAWKSPM1", acked (uint64), floor (uint64), then the
// CRC-32C of those 24 bytes (uint32), little-endian. It is replaced by
// writing META.tmp, fsync, rename, fsync of the directory. acked is the
// cumulative acknowledgement; floor is a lower bound for the next sequence
// number. META is rewritten with floor >= next before any segment file is
// deleted or truncated, so the next number survives the loss of every
// segment. Ack updates acked in memory at once but rewrites META at most
// once a minute, before deleting a segment, and on Close: a META that lags after
// a crash, like a damaged one (logged and ignored), only makes the agent
// resend records the server already stored, which it acknowledges without
// storing them again.
//
// # Recovery
//
// Open scans every segment from the start, checking each record's CRC, its
// length against the file and MaxPayload, and its sequence number against
// the expected one. When a record is invalid it searches forward, byte by
// byte, for the next valid record whose sequence number fits in the skipped
// bytes; if there is one, the damaged records are skipped and counted in
// Stats.Corrupt, and stay on disk (readers skip them the same way). If
// there is none, the rest of the file is a torn or damaged tail: it is
// truncated (Stats.Truncated) after the floor has been raised past every
// sequence number the tail could hold. Open never fails on damaged data,
// only on I/O errors. It then deletes segments with no valid or no
// unacknowledged record and applies the size and age bounds.
//
// The next sequence number after Open is the largest of: META's floor,
// acked+1, every segment's first number, last valid record + 1, and the
// tail bounds above.
package spool
