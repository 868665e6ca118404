package collect

import (
	"slices"
	"strings"
)

// Off Linux the core collectors read the system through gopsutil, whose
// calls are the thin OS-specific part (host_other.go, registered by
// host_bsd.go and host_windows.go). This file names what they read as
// node_exporter does on darwin and freebsd and windows_exporter does on
// windows; it builds everywhere, without gopsutil, so that tests on Linux
// check the naming with fixed values (hostmetrics_test.go) and the Linux
// agent does not link gopsutil.

// The values read, with gopsutil's field names.
type (
	cpuTimes struct {
		CPU                           string
		User, System, Idle, Nice, Irq float64
	}
	vmStat    struct{ Total, Available, Free, Active, Inactive, Wired, Laundry, Buffers uint64 }
	swapStat  struct{ Total, Used uint64 }
	loadAvg   struct{ Load1, Load5, Load15 float64 }
	partition struct {
		Device, Mountpoint, Fstype string
		Opts                       []string
	}
	usage  struct{ Total, Free, InodesTotal, InodesFree uint64 }
	diskIO struct {
		Name                                                              string
		ReadCount, WriteCount, ReadBytes, WriteBytes, ReadTime, WriteTime uint64
	}
	netIO struct {
		Name                                                                           string
		BytesSent, BytesRecv, PacketsSent, PacketsRecv, Errin, Errout, Dropin, Dropout uint64
	}
)

// cpuIndex turns gopsutil's "cpu3" into "3".
func cpuIndex(name string) string { return strings.TrimPrefix(name, "cpu") }

// nodeCPU names per-CPU times as node_exporter's cpu collector does on
// darwin and freebsd (modes user, nice, system, idle; freebsd adds
// interrupt).
func nodeCPU(withInterrupt bool) func(*emitter, []cpuTimes) {
	return func(e *emitter, times []cpuTimes) {
		const name, help = "node_cpu_seconds_total", "Seconds the CPUs spent in each mode."
		for _, t := range times {
			c := Label{"cpu", cpuIndex(t.CPU)}
			e.counter(name, help, t.Idle, c, Label{"mode", "idle"})
			if withInterrupt {
				e.counter(name, help, t.Irq, c, Label{"mode", "interrupt"})
			}
			e.counter(name, help, t.Nice, c, Label{"mode", "nice"})
			e.counter(name, help, t.System, c, Label{"mode", "system"})
			e.counter(name, help, t.User, c, Label{"mode", "user"})
		}
	}
}

// memory is what the memory collectors read.
type memory struct {
	vm   vmStat
	swap swapStat
}

// nodeMemoryDarwin names memory as node_exporter's meminfo collector does
// on darwin.
func nodeMemoryDarwin(e *emitter, m memory) {
	e.gauge("node_memory_total_bytes", "Memory information field total_bytes.", float64(m.vm.Total))
	e.gauge("node_memory_free_bytes", "Memory information field free_bytes.", float64(m.vm.Free))
	e.gauge("node_memory_active_bytes", "Memory information field active_bytes.", float64(m.vm.Active))
	e.gauge("node_memory_inactive_bytes", "Memory information field inactive_bytes.", float64(m.vm.Inactive))
	e.gauge("node_memory_wired_bytes", "Memory information field wired_bytes.", float64(m.vm.Wired))
	e.gauge("node_memory_swap_total_bytes", "Memory information field swap_total_bytes.", float64(m.swap.Total))
	e.gauge("node_memory_swap_used_bytes", "Memory information field swap_used_bytes.", float64(m.swap.Used))
}

// nodeMemoryFreeBSD names memory as node_exporter's meminfo collector
// does on freebsd.
func nodeMemoryFreeBSD(e *emitter, m memory) {
	e.gauge("node_memory_size_bytes", "Recent size of memory in bytes.", float64(m.vm.Total))
	e.gauge("node_memory_free_bytes", "Recent free memory in bytes.", float64(m.vm.Free))
	e.gauge("node_memory_active_bytes", "Recently used memory in bytes.", float64(m.vm.Active))
	e.gauge("node_memory_inactive_bytes", "Recently unused memory in bytes.", float64(m.vm.Inactive))
	e.gauge("node_memory_wired_bytes", "Locked memory in bytes.", float64(m.vm.Wired))
	e.gauge("node_memory_laundry_bytes", "Dirty memory to be paged out, in bytes.", float64(m.vm.Laundry))
	e.gauge("node_memory_buffer_bytes", "Memory used by the buffer cache, in bytes.", float64(m.vm.Buffers))
	e.gauge("node_memory_swap_size_bytes", "Total swap memory size in bytes.", float64(m.swap.Total))
	e.gauge("node_memory_swap_used_bytes", "Currently allocated swap in bytes.", float64(m.swap.Used))
}

// nodeLoad names load averages as node_exporter does.
func nodeLoad(e *emitter, l *loadAvg) {
	e.gauge("node_load1", "1m load average.", l.Load1)
	e.gauge("node_load5", "5m load average.", l.Load5)
	e.gauge("node_load15", "15m load average.", l.Load15)
}

// mount is one mounted file system and its usage.
type mount struct {
	part  partition
	usage usage
}

// nodeFilesystem names mounts as node_exporter's filesystem collector
// does on darwin and freebsd. gopsutil does not tell reserved blocks apart,
// so avail is free.
func nodeFilesystem(e *emitter, mounts []mount) {
	for _, m := range mounts {
		ls := []Label{{"device", m.part.Device}, {"fstype", m.part.Fstype}, {"mountpoint", m.part.Mountpoint}}
		ro := 0.0
		if slices.Contains(m.part.Opts, "ro") || slices.Contains(m.part.Opts, "rdonly") {
			ro = 1
		}
		e.gauge("node_filesystem_size_bytes", "Filesystem size in bytes.", float64(m.usage.Total), ls...)
		e.gauge("node_filesystem_free_bytes", "Filesystem free space in bytes.", float64(m.usage.Free), ls...)
		e.gauge("node_filesystem_avail_bytes", "Filesystem space available to non-root users in bytes.", float64(m.usage.Free), ls...)
		e.gauge("node_filesystem_files", "Filesystem total file nodes.", float64(m.usage.InodesTotal), ls...)
		e.gauge("node_filesystem_files_free", "Filesystem total free file nodes.", float64(m.usage.InodesFree), ls...)
		e.gauge("node_filesystem_readonly", "Filesystem read-only status.", ro, ls...)
	}
}

// nodeDiskDarwin names disk counters as node_exporter's diskstats
// collector does on darwin (times in seconds; gopsutil gives ms).
func nodeDiskDarwin(e *emitter, disks []diskIO) {
	for _, d := range disks {
		l := Label{"device", d.Name}
		e.counter("node_disk_reads_completed_total", "The total number of reads completed successfully.", float64(d.ReadCount), l)
		e.counter("node_disk_read_bytes_total", "The total number of bytes read successfully.", float64(d.ReadBytes), l)
		e.counter("node_disk_read_time_seconds_total", "The total number of seconds spent by all reads.", float64(d.ReadTime)/1000, l)
		e.counter("node_disk_writes_completed_total", "The total number of writes completed successfully.", float64(d.WriteCount), l)
		e.counter("node_disk_written_bytes_total", "The total number of bytes written successfully.", float64(d.WriteBytes), l)
		e.counter("node_disk_write_time_seconds_total", "This is the total number of seconds spent by all writes.", float64(d.WriteTime)/1000, l)
	}
}

// nodeDevstat names disk counters as node_exporter's devstat collector
// does on freebsd.
func nodeDevstat(e *emitter, disks []diskIO) {
	for _, d := range disks {
		dev := Label{"device", d.Name}
		e.counter("node_devstat_bytes_total", "The total number of bytes in transactions.", float64(d.ReadBytes), dev, Label{"type", "read"})
		e.counter("node_devstat_bytes_total", "The total number of bytes in transactions.", float64(d.WriteBytes), dev, Label{"type", "write"})
		e.counter("node_devstat_transfers_total", "The total number of transactions.", float64(d.ReadCount), dev, Label{"type", "read"})
		e.counter("node_devstat_transfers_total", "The total number of transactions.", float64(d.WriteCount), dev, Label{"type", "write"})
		e.counter("node_devstat_duration_seconds_total", "The total duration of transactions in seconds.", float64(d.ReadTime)/1000, dev, Label{"type", "read"})
		e.counter("node_devstat_duration_seconds_total", "The total duration of transactions in seconds.", float64(d.WriteTime)/1000, dev, Label{"type", "write"})
	}
}

// nodeNetdev names interface counters as node_exporter's netdev collector
// does.
func nodeNetdev(e *emitter, ifs []netIO) {
	for _, i := range ifs {
		l := Label{"device", i.Name}
		e.counter("node_network_receive_bytes_total", "Network device statistic receive_bytes.", float64(i.BytesRecv), l)
		e.counter("node_network_receive_packets_total", "Network device statistic receive_packets.", float64(i.PacketsRecv), l)
		e.counter("node_network_receive_errs_total", "Network device statistic receive_errs.", float64(i.Errin), l)
		e.counter("node_network_receive_drop_total", "Network device statistic receive_drop.", float64(i.Dropin), l)
		e.counter("node_network_transmit_bytes_total", "Network device statistic transmit_bytes.", float64(i.BytesSent), l)
		e.counter("node_network_transmit_packets_total", "Network device statistic transmit_packets.", float64(i.PacketsSent), l)
		e.counter("node_network_transmit_errs_total", "Network device statistic transmit_errs.", float64(i.Errout), l)
		e.counter("node_network_transmit_drop_total", "Network device statistic transmit_drop.", float64(i.Dropout), l)
	}
}

// windowsCPU names per-CPU times as windows_exporter's cpu collector does
// (core "0,N": one processor group).
func windowsCPU(e *emitter, times []cpuTimes) {
	const name, help = "windows_cpu_time_total", "Time that processor spent in different modes (dpc, idle, interrupt, privileged, user)"
	for _, t := range times {
		c := Label{"core", "0," + cpuIndex(t.CPU)}
		e.counter(name, help, t.Idle, c, Label{"mode", "idle"})
		e.counter(name, help, t.Irq, c, Label{"mode", "interrupt"})
		e.counter(name, help, t.System, c, Label{"mode", "privileged"})
		e.counter(name, help, t.User, c, Label{"mode", "user"})
	}
}

// windowsMemory names memory as windows_exporter's memory collector does.
func windowsMemory(e *emitter, m memory) {
	e.gauge("windows_memory_physical_total_bytes", "The amount of physical memory in bytes.", float64(m.vm.Total))
	e.gauge("windows_memory_physical_free_bytes", "The amount of free physical memory in bytes.", float64(m.vm.Available))
	e.gauge("windows_memory_commit_limit", "Amount of virtual memory, in bytes, that can be committed without having to extend the paging file(s).", float64(m.swap.Total))
	e.gauge("windows_memory_committed_bytes", "Amount of committed virtual memory, in bytes.", float64(m.swap.Used))
}

// logicalDisks is what the logical_disk collector reads: volumes with
// their usage and I/O counters.
type logicalDisks struct {
	mounts []mount
	io     map[string]diskIO // by volume, "C:"
}

// windowsLogicalDisk names volumes as windows_exporter's logical_disk
// collector does.
func windowsLogicalDisk(e *emitter, d logicalDisks) {
	for _, m := range d.mounts {
		vol := strings.TrimSuffix(m.part.Mountpoint, `\`)
		l := Label{"volume", vol}
		e.gauge("windows_logical_disk_size_bytes", "Total space in bytes, updates every 10-15 min (LogicalDisk.PercentFreeSpace_Base)", float64(m.usage.Total), l)
		e.gauge("windows_logical_disk_free_bytes", "Free space in bytes, updates every 10-15 min (LogicalDisk.PercentFreeSpace)", float64(m.usage.Free), l)
		io, ok := d.io[vol]
		if !ok {
			continue
		}
		e.counter("windows_logical_disk_reads_total", "The number of read operations on the disk (LogicalDisk.DiskReadsPerSec)", float64(io.ReadCount), l)
		e.counter("windows_logical_disk_writes_total", "The number of write operations on the disk (LogicalDisk.DiskWritesPerSec)", float64(io.WriteCount), l)
		e.counter("windows_logical_disk_read_bytes_total", "The number of bytes transferred from the disk during read operations (LogicalDisk.DiskReadBytesPerSec)", float64(io.ReadBytes), l)
		e.counter("windows_logical_disk_write_bytes_total", "The number of bytes transferred to the disk during write operations (LogicalDisk.DiskWriteBytesPerSec)", float64(io.WriteBytes), l)
	}
}

// windowsNIC turns an interface name into windows_exporter's nic label:
// every character but a letter or digit becomes an underscore.
func windowsNIC(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, name)
}

// windowsNet names interface counters as windows_exporter's net collector
// does.
func windowsNet(e *emitter, ifs []netIO) {
	for _, i := range ifs {
		l := Label{"nic", windowsNIC(i.Name)}
		e.counter("windows_net_bytes_received_total", "(Network.BytesReceivedPerSec)", float64(i.BytesRecv), l)
		e.counter("windows_net_bytes_sent_total", "(Network.BytesSentPerSec)", float64(i.BytesSent), l)
		e.counter("windows_net_packets_received_total", "(Network.PacketsReceivedPerSec)", float64(i.PacketsRecv), l)
		e.counter("windows_net_packets_sent_total", "(Network.PacketsSentPerSec)", float64(i.PacketsSent), l)
		e.counter("windows_net_packets_received_errors_total", "(Network.PacketsReceivedErrors)", float64(i.Errin), l)
		e.counter("windows_net_packets_outbound_errors_total", "(Network.PacketsOutboundErrors)", float64(i.Errout), l)
		e.counter("windows_net_packets_received_discarded_total", "(Network.PacketsReceivedDiscarded)", float64(i.Dropin), l)
		e.counter("windows_net_packets_outbound_discarded_total", "(Network.PacketsOutboundDiscarded)", float64(i.Dropout), l)
	}
}
