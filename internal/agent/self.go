package agent

import (
	"bytes"
	"os"
	"strconv"
	"time"

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
	if cpu, rss, ok := readSelfStat(); ok {
		b.counter("hawk_agent_process_cpu_seconds_total", "CPU time the agent process used.", t, cpu)
		b.gauge("hawk_agent_process_resident_memory_bytes", "Resident memory of the agent process.", t, rss)
	}
}

// readSelfStat reads the process's CPU seconds and resident bytes from
// /proc/self/stat.
func readSelfStat() (cpu, rss float64, ok bool) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, 0, false
	}
	// Fields after the command name, which is in parentheses and may hold
	// spaces: state is field 3, utime 14, stime 15, rss 24.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 22 {
		return 0, 0, false
	}
	ut, err1 := strconv.ParseFloat(string(f[11]), 64)
	st, err2 := strconv.ParseFloat(string(f[12]), 64)
	pages, err3 := strconv.ParseFloat(string(f[21]), 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, false
	}
	const userHZ = 100
	return (ut + st) / userHZ, pages * float64(os.Getpagesize()), true
}
