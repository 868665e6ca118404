// Package collect reads host metrics and names them as prometheus
// node_exporter does, so that dashboards written for node_exporter (Node
// Exporter Full) work with hawk unchanged.
//
// # Model
//
// A collector reads one source (/proc/meminfo, /sys/class/net, statfs...)
// and is registered by its node_exporter name in an init function; it is
// on or off by default as in node_exporter. Collectors lists them, so that
// the agent can offer -collector.<name> and -no-collector.<name> flags and
// pass the choices in Config.Enable. One collector has no node_exporter
// counterpart: "process" sends the process_* series of the process that
// runs the Set, under the names client_golang gives node_exporter's own
// process, because Node Exporter Full reads them.
//
// New builds a Set from a Config; Config.ProcPath, SysPath and RootfsPath
// say where /proc, /sys and / are, so tests read fixtures from testdata/.
// Set.Collect runs the enabled collectors one after the other and hands
// every sample to an emit function, followed for each collector by
// node_scrape_collector_duration_seconds{collector} and
// node_scrape_collector_success{collector}.
//
// A collector whose source is absent (no PSI, no hwmon) returns ErrNoData:
// it sends nothing, success is 0 as in node_exporter, and Stats counts it
// as NoData, not as a failure. Any other error, or a panic, is logged at
// debug level and counted in Stats.Failures; the other collectors still run.
//
// # Cost and lifetimes
//
// Collection is on the agent's hot path. Collectors read files with plain
// system calls into buffers they keep, parse by hand, intern label values
// and reuse one label slice for every sample, so a steady-state collection
// allocates little. Hence: the Metric passed to emit, in particular its
// Labels slice, is only valid during that call; emit must copy what it
// keeps. Nothing in this package starts a process.
//
// A Set is safe for concurrent use; Collect calls are serialised. emit must
// not call back into the Set.
//
// # Systems
//
// The collectors of the *_linux.go files read procfs and sysfs through
// fileReader (filereader_linux.go), whose system calls are package
// rawio's. On darwin, freebsd and windows a smaller set reads the system
// through gopsutil (host_other.go) and names the values as node_exporter
// or windows_exporter does there (hostmetrics.go, tested on Linux).
package collect
