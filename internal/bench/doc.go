// Package bench is the logic of hawk-bench, the load and audit tool: it
// simulates many agents, each on its own TCP connection speaking v2, and
// measures what the server does with them.
//
//   - Load (RunLoad): N agents send a realistic host series set (HostSet,
//     about 300 node exporter series with job and instance labels) every
//     interval or as fast as the window allows; it reports sent and
//     acknowledged samples per second, ACK latency quantiles, bytes on the
//     wire per sample and the server's CPU time and RSS (ReadProc).
//   - Idle connections (RunConns): N agents that only heartbeat, as cheaply
//     as one goroutine and a 64-byte read buffer each; it reports how many
//     connections were held, heartbeat echo latency and the server's RSS
//     per connection.
//   - Audit (RunAudit): agents send deterministic samples (the value of
//     every series in batch k is k, at start + k·interval) and behave like
//     the real agent on GOAWAY, ERROR and dropped connections: every
//     unacknowledged batch stays in memory and is resent on a fresh
//     connection with a fresh Encoder from the oldest after WELCOME.LastSeq.
//     Afterwards Check reads every series back through the query API with a
//     raw range selector and counts missing, duplicated and unexpected
//     samples.
//   - Attack (RunAttack): one well-behaved agent's ACK latency alone and
//     then under each attack of issue 17 (hijacking HELLOs, costly PromQL,
//     open batches, silent HTTP connections, huge HELLOs, legacy peers,
//     version churn, forged series, a series flood, series lookups), with
//     the server's RSS before and at its peak (docs/security.md, section 9).
//   - Influx (RunInflux): the same series and samples as Influx line
//     protocol over TCP, for comparing with VictoriaMetrics.
//
// Connections are spread over source addresses 127.0.0.2, 127.0.0.3, ...
// (Sources) so that more than one address's worth of ephemeral ports can be
// used, and RaiseFileLimit lifts RLIMIT_NOFILE. Every run is bounded by a
// context and a duration; every goroutine it starts has ended when it
// returns. Histograms (Hist) are safe for concurrent use; everything else
// belongs to one goroutine unless its doc says otherwise.
package bench
