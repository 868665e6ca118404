// Package store holds the sinks that hawk-server commits agent data to: the
// embedded Prometheus TSDB (the default), Prometheus remote write (Remote)
// and a fan-out of several sinks (Fanout).
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
// resolved again from the labels inside the TSDB. A series' metadata goes to
// the TSDB with the sample that resolves its ref only, not with every sample. Sample errors (out of
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
// # Storage faults
//
// A WAL write that fails (no space, EIO) may leave part of a record in the
// segment (tsdb/wlog discards the rest of a record whose page write failed,
// and writes the page later), and a record written after it would be lost
// with it: the TSDB's repair truncates at the first bad record and deletes
// every later segment. So the TSDB sink acknowledges nothing once a WAL
// write has failed: a Commit fails with ErrStorageFault if its own write
// failed or if the WAL's writes_failed counter moved (read after every
// commit; a concurrent commit's failure increments it under the WAL's lock
// before this commit's records are written). The heal loop then waits for
// running transactions, closes the TSDB, runs CheckWAL (which cuts the torn
// tail) and opens it again, with backoff while that fails; queries fail
// meanwhile (liveStorage). CheckWAL also runs before every OpenTSDB: torn
// tails are cut in place, other damage is salvaged page by page into a
// rewritten segment with the original kept in wal-damaged/, and a salvage
// that cannot be written fails the open instead of letting the TSDB's repair
// run (TestTSDBFullDiskNeverAcksAfterTear, TestTSDBFlippedBytesKeepsLaterRecords,
// TestCheckWALNoSpaceChangesNothing; the seam is package faultfs).
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
// # Remote write sink
//
// Remote sends samples with Prometheus remote write 1.0 (prompb.WriteRequest,
// snappy, X-Prometheus-Remote-Write-Version 0.1.0) to VictoriaMetrics
// (vminsert), Mimir, Thanos Receive or a Prometheus with its receiver on.
// Append only collects; Commit splits the transaction by label hash (cached
// in the sink's Series.Ref slot) over the shards and waits. Each shard
// batches the shares of many concurrent Commits into requests of up to
// MaxSamplesPerSend samples, sent when full or FlushDeadline (5 ms) after the
// oldest share arrived, one request in flight per shard, so the samples of a
// series reach the remote in commit order. Commit returns nil only once every
// request carrying its samples got a 2xx, or a refusal described next; the
// session acknowledges only then. Nothing a Commit returned nil for is still
// pending, so Close just fails the Commits still waiting (ErrRemoteClosed).
//
// Responses: 5xx, 429 and network errors are retried with exponential backoff
// (MinBackoff doubling to MaxBackoff; a Retry-After of 429 or 5xx is waited
// at least) while MaxRetryTime (10 s) since the Commit has not passed; then
// the Commit fails, the session answers ERROR(storage) and the agent keeps
// the batch and resends it later. 400, 409 (Thanos' conflict) and 422 say the
// remote refused the samples themselves (out of order, too old, another value
// for the timestamp, bad labels): retrying cannot help and failing the Commit
// would make the agent resend the batch forever, so those samples are
// dropped, counted in hawk_remote_samples_rejected_total, logged, and the
// Commit succeeds - as with the TSDB sink's ErrRejected, except that it is
// known only at Commit, so the session counts them as stored. A Prometheus
// receiver rolls back the whole request for one such sample, so a refused
// request that carried several Commits is sent again one Commit at a time and
// only the refused Commits are dropped. Every other status (401, 403, 404,
// 413, ...) says nothing about the samples: it is not retried and fails the
// Commit, so a misconfiguration never discards data.
//
// # Modes and exactly-once
//
// hawk-server runs with the TSDB only (the default), with remote write only
// (a stateless collector), or with both through Fanout, which appends to each
// child, commits them in parallel and succeeds only if all did; each child
// uses its own Series.Ref slot. When one child fails, the agent resends the
// batch to all of them, and those that stored it already see duplicates.
//
// With the TSDB, an acknowledged batch is in the WAL and Sequences (kept next
// to it) skips batches already committed. In remote-only mode nothing is
// stored locally: "exactly once" becomes "at least once, deduplicated by the
// remote". Sequences can still be kept in a local directory, so that in
// normal operation a batch is not sent twice; but a batch whose
// acknowledgement was lost, or that was committed less than a flush interval
// before a crash, is sent again, and so is every batch of an agent that
// reconnects to another collector. What each store does with an identical
// (series, timestamp, value) sent again:
//   - VictoriaMetrics stores every raw sample it receives: without
//     -dedup.minScrapeInterval both copies stay and count_over_time sees 2
//     (TestRemoteVictoriaMetricsResend, 1.79.5). With it (on single-node, or
//     vmstorage and vmselect of a cluster) one sample per series and interval
//     is kept, at query and merge time; 1ms collapses exact duplicates only.
//   - Prometheus' receiver (TSDB head, no out-of-order window): equal to the
//     newest sample of the series, ignored and answered 2xx; older, an
//     out-of-order error, the request is rolled back and answered 400, which
//     Remote counts as rejected - harmless, the first copy is stored. With
//     out_of_order_time_window it is stored again and merged away at query
//     and compaction, as in the TSDB sink above.
//   - Mimir and Thanos Receive run the same TSDB per tenant: the newest is
//     ignored; an older one is out of order (Mimir 400
//     err-mimir-sample-out-of-order, Thanos 409) unless an out-of-order
//     window is set, and then stored and merged as above. The same timestamp
//     with another value is refused by all three (duplicate sample).
//
// So run VictoriaMetrics behind a remote-only collector with
// -dedup.minScrapeInterval (1ms at least).
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
// appended again and deduplicated as described above. A write holds the
// map's lock only to take the entries advanced since the last write; it
// sorts and encodes in a copy of its own, so Advance, on every
// acknowledged batch's path, does not wait for a fleet-sized encode.
package store
