// Package agent is hawk-agent: it collects host metrics at aligned
// intervals, appends each collection to a crash-safe spool, and sends the
// spool's batches to a collector over v2, deleting them only when the
// collector acknowledges them.
//
// Two goroutines, both owned by Run: the collection loop, which never waits
// on the network, and the send loop, which keeps one session with one of
// the configured servers. A session sends HELLO, acknowledges in the spool
// what WELCOME reports as stored, then sends batches from the oldest
// unacknowledged one with up to the server's window in flight, and a
// heartbeat every interval the server asked for. Its reader goroutine turns
// ACK, heartbeat echoes, GOAWAY and ERROR into events for the send loop. On
// GOAWAY the agent returns after the pause asked for plus jitter; on any
// other end it backs off with full jitter and tries the next server.
package agent
