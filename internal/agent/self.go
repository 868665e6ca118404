package agent

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strconv"
	"time"

	"hawk/internal/rawio"
	"hawk/internal/wire"
)

// selfMetrics adds the agent's own series to a collection: its link to the
// server, its spool and its process.
func (a *Agent) selfMetrics(b *builder, t time.Time) {
	s := &a.stats
	connected := 0.0
	if s.connected.Load() {
		connected = 1
	}
	b.gauge("hawk_agent_connected", "Whether the agent has a session with a server.", t, connected)
	b.gauge("hawk_agent_rtt_seconds", "Round-trip time of the last heartbeat.", t, float64(s.rtt.Load())/1e9)
	b.gauge("hawk_agent_clock_offset_seconds", "Agent clock minus server clock, from the last heartbeat echo.", t, float64(s.offset.Load())/1e9)
	b.counter("hawk_agent_batches_sent_total", "Batches written to a server, resends included.", t, float64(s.sent.Load()))
	b.counter("hawk_agent_connections_total", "Sessions opened with a server.", t, float64(s.reconnect.Load()))
	b.gauge("hawk_agent_collect_duration_seconds", "Time the last collection took.", t, float64(s.collectNs.Load())/1e9)
	st := a.spool.Stats()
	b.gauge("hawk_agent_spool_records", "Batches on disk not yet acknowledged.", t, float64(st.Records))
	b.gauge("hawk_agent_spool_bytes", "Bytes of the spool's segment files.", t, float64(st.Bytes))
	b.counter("hawk_agent_spool_dropped_total", "Unacknowledged batches dropped to keep the spool within its bounds.", t,
		float64(st.DroppedSize), wire.Label{Name: "reason", Value: "size"})
	b.counter("hawk_agent_spool_dropped_total", "Unacknowledged batches dropped to keep the spool within its bounds.", t,
		float64(st.DroppedAge), wire.Label{Name: "reason", Value: "age"})
	b.counter("hawk_agent_spool_write_errors_total", "Collections not spooled because a write or fsync failed (full or failing disk).", t,
		float64(s.disk.spoolFailures.Load()))
	b.gauge("hawk_agent_spool_write_errors_in_a_row", "Collections in a row not spooled; the agent exits at 30 once the row is 10 minutes long.", t,
		float64(s.disk.consecutive.Load()))
	b.counter("hawk_agent_spool_ack_errors_total", "Acknowledgements the spool could not persist at once (kept in memory).", t,
		float64(s.disk.ackFailures.Load()))
	b.counter("hawk_agent_spool_recovered_total", "Spool write errors recovered from without a restart.", t, float64(st.Recovered))
	b.counter("hawk_agent_samples_too_old_total", "Spooled samples not sent because the server no longer stores samples that old.", t,
		float64(s.disk.tooOld.Load()))
	if cpu, rss, ok := a.self.read(); ok {
		b.counter("hawk_agent_process_cpu_seconds_total", "CPU time the agent process used.", t, cpu)
		b.gauge("hawk_agent_process_resident_memory_bytes", "Resident memory of the agent process.", t, rss)
	}
}

// selfStat reads the process's CPU seconds and resident bytes from
// /proc/self/stat, through a descriptor kept open from one collection to
// the next: procfs makes the content anew for each read from offset 0.
type selfStat struct {
	f   *os.File
	buf [1024]byte
}

func (r *selfStat) read() (cpu, rss float64, ok bool) {
	if r.f == nil {
		f, err := os.Open("/proc/self/stat")
		if err != nil {
			return 0, 0, false
		}
		r.f = f
	}
	n, err := rawio.ReadAt(r.f, r.buf[:], 0) // not an ordinary call: see package rawio
	if err != nil && !errors.Is(err, io.EOF) {
		r.f.Close()
		r.f = nil
		return 0, 0, false
	}
	return parseSelfStat(r.buf[:n])
}

func (r *selfStat) close() {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
}

// parseSelfStat picks CPU seconds and resident bytes out of a
// /proc/PID/stat line.
func parseSelfStat(b []byte) (cpu, rss float64, ok bool) {
	// Fields after the command name, which is in parentheses and may hold
	// spaces: state is field 3, utime 14, stime 15, rss 24.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	var f [24][]byte
	n := 0
	for rest := b[i+1:]; n < len(f); n++ {
		rest = bytes.TrimLeft(rest, " \n")
		if len(rest) == 0 {
			break
		}
		j := bytes.IndexAny(rest, " \n")
		if j < 0 {
			j = len(rest)
		}
		f[n], rest = rest[:j], rest[j:]
	}
	if n < 22 {
		return 0, 0, false
	}
	ut, ok1 := parseUint(f[11])
	st, ok2 := parseUint(f[12])
	pages, ok3 := parseUint(f[21])
	if !ok1 || !ok2 || !ok3 {
		return 0, 0, false
	}
	const userHZ = 100
	return float64(ut+st) / userHZ, float64(pages) * float64(os.Getpagesize()), true
}

// parseUint parses an unsigned decimal number without allocating.
func parseUint(b []byte) (uint64, bool) {
	v, err := strconv.ParseUint(string(b), 10, 64)
	return v, err == nil
}
