// Package server is hawk's collector: it accepts agent connections on one
// port, tells the legacy JSON encoding from v2 by the first byte of the
// first frame, and serves each connection with one goroutine that reads,
// decodes, commits and replies.
//
// A legacy connection gets the exact reply line for each packet. A v2
// connection must open with HELLO; the server answers WELCOME with the
// highest batch sequence it has stored for the agent. Batches are decoded
// against the connection's series dictionary and held until complete; all
// complete batches read in one go go to the sink together, and once their
// transaction is committed the session sends one cumulative ACK. Sessions
// that commit at the same time share transactions (group commit, see
// committer): at most procs.CPUs() transactions are open at once, and a
// session that finds them all busy queues its batches for the next one,
// which the oldest queued session leads. An error fails every batch of the
// transaction, and each of their sessions ends with ERROR(storage).
// A batch at or below the stored sequence is acknowledged without being
// stored again.
//
// When Config.TLS is set, each session reads its first byte: 0x16 starts a
// TLS handshake in the session's goroutine, anything else is plaintext,
// allowed or refused by Config.Plaintext. Limits (docs/security.md) end a
// connection with ERROR or drop and count what breaks them; bad input never
// reaches other sessions.
//
// Shutdown stops accepting, lets each session commit and acknowledge what
// it holds, sends GOAWAY and closes. The Fleet records every agent and
// legacy peer; a loop writes its hawk_agent_* series into the sink.
package server
