// Package store holds the sinks that hawk-server commits agent data to: the
// embedded Prometheus TSDB (the default) and, later, remote write and a
// fan-out of several sinks.
//
// The contract is the same for every sink. A session keeps one *Series per
// entry of its connection's series dictionary, opens an Appender for each
// batch, appends the batch's samples and calls Commit. Commit returns only
// once the samples would survive the server process being killed; only then
// does the session acknowledge the batch to the agent.
//
// # TSDB sink
//
// TSDB appends through the TSDB's AppenderV2. Each Series caches the TSDB's
// series ref in its slot, tagged in the high 16 bits with a random id of the
// TSDB instance, so the steady state does no label hashing (0 allocs and
// about 1.7 times the samples per second of resolving by labels; see
// BenchmarkTSDBAppend*) and a ref from an earlier instance is never trusted. A ref the head has garbage-collected is
// resolved again from the labels inside the TSDB. Sample errors (out of
// bounds, out of order, too old, another value for the same timestamp,
// invalid labels) wrap ErrRejected and are counted in
// hawk_store_samples_rejected_total{reason}.
//
// # Durability
//
// Commit first encodes the transaction's series, metadata and sample
// records and hands each to the WAL's Log, which copies it into the current
// 32 KiB page and, for the last record of each Log call, writes the page with
// write(2) (tsdb/wlog WL.log → flushPage → os.File.Write), before the samples
// go into the in-memory head. So every committed sample is in the OS page
// cache when Commit returns and survives kill -9 of the server: the next
// OpenTSDB replays it (TestTSDBSurvivesKill9 commits in a child process that
// then kills itself with SIGKILL). Neither Commit nor the WAL calls fsync
// (only segment rotation and Close do), so a power loss or kernel crash can
// lose the last acknowledged batches.
//
// Out-of-order samples are also in the WAL; the TSDB additionally writes
// them to the WBL after inserting them, still before Commit returns, but a
// WBL write error is only logged by the TSDB, not returned.
//
// A sample that passes Append can still be dropped silently at Commit, when
// another transaction appended a newer sample to the same series in between
// and the sample falls outside the out-of-order window. Only the TSDB's
// prometheus_tsdb_*_samples_total counters see these.
//
// # Duplicates
//
// Appending exactly the same (series, timestamp, value) again stores it
// once as far as any query can tell, which makes resending a batch after a
// lost acknowledgement harmless (TestTSDBDedup, TestTSDBDedupBeyondHeadChunk):
//   - in order, equal to the newest sample: dropped by the head;
//   - twice in one batch: the second is dropped at Commit;
//   - out of order, inside the window, equal to a sample in the OOO head
//     chunk: dropped;
//   - out of order, equal to an in-order sample, or to one already m-mapped
//     or compacted into a block: stored a second time (also in the WAL), and
//     removed by the merge of in-order, out-of-order and block data at query
//     and compaction time.
//
// The same timestamp with a different value is rejected in order and in the
// OOO head chunk; against m-mapped or compacted data it is not detected and
// the query merge then returns one of the two values.
//
// # Sequences
//
// Sequences keeps the highest committed batch sequence per agent in memory
// and persists it to one file, replaced atomically (write to path.tmp, fsync,
// rename, fsync the directory). Layout, little-endian, frozen:
//
//	magic "HKSQ" | version u8 = 1 | count u32 |
//	count × (id length u16 | id bytes | sequence u64) | CRC-32C u32
//
// entries sorted by id; the CRC covers everything before it. Changes are
// written every flush interval (1 s by default) and on Sync and Close, so
// after a crash the file can lag by one interval: the batches resent then are
// appended again and deduplicated as described above.
package store
