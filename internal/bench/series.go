package bench

import (
	"math"
	"strconv"

	"hawk/internal/wire"
)

// valueKind says how a series' value moves from one step to the next, so
// that the wire sees the deltas a real node exporter would produce.
type valueKind uint8

const (
	kindConst      valueKind = iota // never changes (sizes, boot time, mtu)
	kindCentiSecs                   // counter of seconds in hundredths (USER_HZ)
	kindCount                       // integer counter
	kindPageBytes                   // gauge of bytes in 4 KiB pages
	kindCentiGauge                  // gauge in hundredths (load averages)
	kindSmallGauge                  // small integer gauge (procs running)
)

// HostSet is the series set of one simulated host: node exporter families
// (cpu, memory, filesystem, disk, network, netstat, vmstat, ...) with job
// and instance labels, and a deterministic value model for each. The
// definitions are shared read-only; the values belong to one HostSet and
// are not safe for concurrent use.
type HostSet struct {
	Defs  []wire.SeriesDef
	kinds []valueKind
	rates []float64 // per-second increment scale of each series
	vals  []float64 // current value of each series
	rng   uint64    // splitmix64 state
}

// family is one metric family and its label sets, as a builder sees it.
type family struct {
	name   string
	typ    wire.MetricType
	kind   valueKind
	rate   float64
	labels [][]wire.Label
}

// NewHostSet returns a set of n series (n > 0) labelled job and instance,
// with values seeded by seed. The first series are the same for every n;
// a larger n adds CPUs.
func NewHostSet(n int, job, instance string, seed uint64) *HostSet {
	h := &HostSet{rng: seed*0x9E3779B97F4A7C15 + 1}
	extra := []wire.Label{{Name: "instance", Value: instance}, {Name: "job", Value: job}}
	add := func(f family) {
		for _, ls := range f.labels {
			if len(h.Defs) == n {
				return
			}
			all := append(append([]wire.Label(nil), ls...), extra...)
			h.Defs = append(h.Defs, wire.SeriesDef{Type: f.typ, Name: f.name, Help: f.name + " (hawk-bench)", Labels: all})
			h.kinds = append(h.kinds, f.kind)
			h.rates = append(h.rates, f.rate)
		}
	}
	for _, f := range hostFamilies(8) {
		add(f)
	}
	for cpu := 8; len(h.Defs) < n; cpu++ {
		add(cpuFamily(cpu, cpu+1))
	}
	h.vals = make([]float64, len(h.Defs))
	for i := range h.vals {
		h.vals[i] = h.initial(i)
	}
	return h
}

// Len returns the number of series.
func (h *HostSet) Len() int { return len(h.Defs) }

// Values returns the current values, by series index. The slice is valid
// until the next Advance.
func (h *HostSet) Values() []float64 { return h.vals }

// Advance moves every value on by dt seconds of simulated host activity.
func (h *HostSet) Advance(dt float64) {
	for i, k := range h.kinds {
		r := h.rates[i]
		switch k {
		case kindCentiSecs:
			h.vals[i] = math.Round((h.vals[i]+r*dt*(0.5+h.float()))*100) / 100
		case kindCount:
			h.vals[i] += math.Floor(r * dt * (0.5 + h.float()))
		case kindPageBytes:
			pages := math.Floor((h.float() - 0.5) * r)
			h.vals[i] = math.Max(0, h.vals[i]+pages*4096)
		case kindCentiGauge:
			h.vals[i] = math.Max(0, math.Round((h.vals[i]+(h.float()-0.5)*r)*100)/100)
		case kindSmallGauge:
			h.vals[i] = math.Floor(h.float() * r)
		}
	}
}

func (h *HostSet) initial(i int) float64 {
	switch h.kinds[i] {
	case kindConst:
		return math.Floor(1e9 * (1 + h.float()))
	case kindCentiSecs:
		return math.Round(h.float()*1e7) / 100
	case kindCount, kindPageBytes:
		return math.Floor(h.float()*1e6) * 4096
	case kindCentiGauge:
		return math.Round(h.float()*400) / 100
	}
	return 1
}

// float returns a deterministic pseudo-random number in [0, 1).
func (h *HostSet) float() float64 {
	h.rng += 0x9E3779B97F4A7C15
	z := h.rng
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	return float64((z^z>>31)>>11) / (1 << 53)
}

func lbl(kv ...string) []wire.Label {
	ls := make([]wire.Label, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		ls = append(ls, wire.Label{Name: kv[i], Value: kv[i+1]})
	}
	return ls
}

func cpuFamily(from, to int) family {
	f := family{name: "node_cpu_seconds_total", typ: wire.TypeCounter, kind: kindCentiSecs, rate: 0.12}
	for cpu := from; cpu < to; cpu++ {
		for _, mode := range []string{"idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user"} {
			f.labels = append(f.labels, lbl("cpu", strconv.Itoa(cpu), "mode", mode))
		}
	}
	return f
}

// hostFamilies returns the families of a host with cpus CPUs, about 300
// series for 8 CPUs.
func hostFamilies(cpus int) []family {
	fs := []family{cpuFamily(0, cpus)}
	one := []wire.Label{}
	scalar := func(name string, typ wire.MetricType, kind valueKind, rate float64) family {
		return family{name: name, typ: typ, kind: kind, rate: rate, labels: [][]wire.Label{one}}
	}
	for _, m := range []string{"MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "SwapTotal", "SwapFree",
		"Active", "Inactive", "Dirty", "Writeback", "Slab", "SReclaimable", "SUnreclaim", "Shmem", "Mapped",
		"AnonPages", "PageTables", "KernelStack", "Committed_AS"} {
		kind := kindPageBytes
		if m == "MemTotal" || m == "SwapTotal" {
			kind = kindConst
		}
		fs = append(fs, scalar("node_memory_"+m+"_bytes", wire.TypeGauge, kind, 64))
	}
	for _, m := range []string{"load1", "load5", "load15"} {
		fs = append(fs, scalar("node_"+m, wire.TypeGauge, kindCentiGauge, 0.2))
	}
	var mounts [][]wire.Label
	for _, m := range [][3]string{{"/dev/sda1", "ext4", "/"}, {"/dev/sda2", "ext4", "/home"}, {"/dev/sdb1", "xfs", "/var"},
		{"tmpfs", "tmpfs", "/run"}, {"/dev/nvme0n1p1", "vfat", "/boot/efi"}} {
		mounts = append(mounts, lbl("device", m[0], "fstype", m[1], "mountpoint", m[2]))
	}
	for _, m := range []struct {
		name string
		kind valueKind
	}{{"avail_bytes", kindPageBytes}, {"free_bytes", kindPageBytes}, {"size_bytes", kindConst},
		{"files", kindConst}, {"files_free", kindSmallGauge}, {"readonly", kindConst}, {"device_error", kindConst}} {
		fs = append(fs, family{name: "node_filesystem_" + m.name, typ: wire.TypeGauge, kind: m.kind, rate: 32, labels: mounts})
	}
	var disks [][]wire.Label
	for _, d := range []string{"sda", "sdb", "nvme0n1", "dm-0"} {
		disks = append(disks, lbl("device", d))
	}
	for _, m := range []struct {
		name string
		kind valueKind
		rate float64
	}{{"reads_completed_total", kindCount, 20}, {"reads_merged_total", kindCount, 2}, {"read_bytes_total", kindCount, 400000},
		{"read_time_seconds_total", kindCentiSecs, 0.02}, {"writes_completed_total", kindCount, 40}, {"writes_merged_total", kindCount, 8},
		{"written_bytes_total", kindCount, 800000}, {"write_time_seconds_total", kindCentiSecs, 0.05}, {"io_now", kindSmallGauge, 3},
		{"io_time_seconds_total", kindCentiSecs, 0.03}, {"io_time_weighted_seconds_total", kindCentiSecs, 0.07},
		{"discards_completed_total", kindCount, 0.5}} {
		typ := wire.TypeCounter
		if m.kind == kindSmallGauge {
			typ = wire.TypeGauge
		}
		fs = append(fs, family{name: "node_disk_" + m.name, typ: typ, kind: m.kind, rate: m.rate, labels: disks})
	}
	var nics [][]wire.Label
	for _, d := range []string{"eth0", "eth1", "lo", "docker0"} {
		nics = append(nics, lbl("device", d))
	}
	for _, m := range []struct {
		name string
		rate float64
	}{{"receive_bytes_total", 200000}, {"receive_packets_total", 300}, {"receive_errs_total", 0.01}, {"receive_drop_total", 0.05},
		{"receive_multicast_total", 0.5}, {"transmit_bytes_total", 150000}, {"transmit_packets_total", 250},
		{"transmit_errs_total", 0.01}, {"transmit_drop_total", 0.01}, {"transmit_colls_total", 0}} {
		fs = append(fs, family{name: "node_network_" + m.name, typ: wire.TypeCounter, kind: kindCount, rate: m.rate, labels: nics})
	}
	for _, m := range []string{"up", "mtu_bytes", "speed_bytes"} {
		fs = append(fs, family{name: "node_network_" + m, typ: wire.TypeGauge, kind: kindConst, labels: nics})
	}
	for _, m := range []struct {
		name string
		rate float64
	}{{"Tcp_ActiveOpens", 5}, {"Tcp_PassiveOpens", 4}, {"Tcp_RetransSegs", 0.3}, {"Tcp_InSegs", 400}, {"Tcp_OutSegs", 380},
		{"Tcp_InErrs", 0.01}, {"Tcp_OutRsts", 0.5}, {"Udp_InDatagrams", 30}, {"Udp_OutDatagrams", 30}, {"Udp_InErrors", 0},
		{"Udp_NoPorts", 0.1}, {"TcpExt_ListenDrops", 0}, {"TcpExt_ListenOverflows", 0}, {"TcpExt_SyncookiesSent", 0},
		{"TcpExt_TCPTimeouts", 0.1}, {"Icmp_InMsgs", 0.2}, {"Icmp_OutMsgs", 0.2}, {"IpExt_InOctets", 200000},
		{"IpExt_OutOctets", 150000}, {"Ip_Forwarding", 0}} {
		fs = append(fs, scalar("node_netstat_"+m.name, wire.TypeUntyped, kindCount, m.rate))
	}
	for _, m := range []struct {
		name string
		rate float64
	}{{"pgfault", 20000}, {"pgmajfault", 2}, {"pgpgin", 400}, {"pgpgout", 800}, {"pswpin", 0}, {"pswpout", 0},
		{"oom_kill", 0}, {"pgsteal_kswapd", 10}, {"pgscan_kswapd", 12}, {"pgrefill", 5}} {
		fs = append(fs, scalar("node_vmstat_"+m.name, wire.TypeUntyped, kindCount, m.rate))
	}
	var softnet [][]wire.Label
	for cpu := range cpus {
		softnet = append(softnet, lbl("cpu", strconv.Itoa(cpu)))
	}
	fs = append(fs,
		family{name: "node_softnet_processed_total", typ: wire.TypeCounter, kind: kindCount, rate: 300, labels: softnet},
		family{name: "node_softnet_dropped_total", typ: wire.TypeCounter, kind: kindCount, rate: 0, labels: softnet},
		family{name: "node_softnet_times_squeezed_total", typ: wire.TypeCounter, kind: kindCount, rate: 0.1, labels: softnet},
		scalar("node_context_switches_total", wire.TypeCounter, kindCount, 5000),
		scalar("node_intr_total", wire.TypeCounter, kindCount, 3000),
		scalar("node_forks_total", wire.TypeCounter, kindCount, 20),
		scalar("node_procs_running", wire.TypeGauge, kindSmallGauge, 6),
		scalar("node_procs_blocked", wire.TypeGauge, kindSmallGauge, 2),
		scalar("node_boot_time_seconds", wire.TypeGauge, kindConst, 0),
		scalar("node_entropy_available_bits", wire.TypeGauge, kindSmallGauge, 256),
		scalar("node_filefd_allocated", wire.TypeGauge, kindSmallGauge, 5000),
		scalar("node_filefd_maximum", wire.TypeGauge, kindConst, 0),
		scalar("node_sockstat_TCP_inuse", wire.TypeGauge, kindSmallGauge, 50),
		scalar("node_sockstat_TCP_tw", wire.TypeGauge, kindSmallGauge, 30),
		scalar("node_sockstat_UDP_inuse", wire.TypeGauge, kindSmallGauge, 10),
		scalar("node_sockstat_sockets_used", wire.TypeGauge, kindSmallGauge, 400),
		scalar("node_nf_conntrack_entries", wire.TypeGauge, kindSmallGauge, 300),
		scalar("node_timex_offset_seconds", wire.TypeGauge, kindCentiGauge, 0.01),
		scalar("node_uname_info", wire.TypeGauge, kindConst, 0),
		scalar("node_exporter_build_info", wire.TypeGauge, kindConst, 0),
	)
	return fs
}
