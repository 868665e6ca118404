package collect

import (
	"fmt"
	"strings"
	"testing"
)

// emitted runs one naming function of hostmetrics.go over fixed values
// and returns its samples as "name{labels} value" lines.
func emitted[T any](name func(*emitter, T), v T) string {
	var b strings.Builder
	e := &emitter{fn: func(m Metric) {
		var ls []string
		for _, l := range m.Labels {
			ls = append(ls, fmt.Sprintf("%s=%q", l.Name, l.Value))
		}
		fmt.Fprintf(&b, "%s{%s} %s %v\n", m.Name, strings.Join(ls, ","), m.Type, m.Value)
	}}
	name(e, v)
	return b.String()
}

// The darwin, freebsd and windows collectors name what the system gave as
// node_exporter (darwin, freebsd) and windows_exporter (windows) do, so
// that their dashboards work; one table row per naming function, the
// values as gopsutil would return them.
func TestOffLinuxNames(t *testing.T) {
	cpus := []cpuTimes{{CPU: "cpu0", User: 10, System: 5, Idle: 100, Nice: 1, Irq: 0.5}, {CPU: "cpu1", User: 20, System: 6, Idle: 90, Nice: 2, Irq: 0.25}}
	mem := memory{vm: vmStat{Total: 16 << 30, Available: 9 << 30, Free: 3 << 30, Active: 5 << 30, Inactive: 4 << 30, Wired: 2 << 30, Laundry: 1 << 20, Buffers: 2 << 20},
		swap: swapStat{Total: 4 << 30, Used: 1 << 30}}
	mounts := []mount{
		{partition{Device: "/dev/disk3s1", Mountpoint: "/", Fstype: "apfs", Opts: []string{"ro", "journaled"}}, usage{Total: 500e9, Free: 200e9, InodesTotal: 1e9, InodesFree: 9e8}},
		{partition{Device: `C:`, Mountpoint: `C:\`, Fstype: "NTFS"}, usage{Total: 256e9, Free: 100e9}},
	}
	disks := []diskIO{{Name: "disk0", ReadCount: 7, WriteCount: 8, ReadBytes: 4096, WriteBytes: 8192, ReadTime: 1500, WriteTime: 250}}
	nets := []netIO{{Name: "Ethernet 2", BytesSent: 1000, BytesRecv: 2000, PacketsSent: 10, PacketsRecv: 20, Errin: 1, Errout: 2, Dropin: 3, Dropout: 4}}

	for _, c := range []struct {
		name string
		got  string
		want []string // lines that must be present
		not  []string // substrings that must be absent
	}{
		{"darwin cpu", emitted(nodeCPU(false), cpus), []string{
			`node_cpu_seconds_total{cpu="0",mode="user"} counter 10`,
			`node_cpu_seconds_total{cpu="1",mode="idle"} counter 90`,
			`node_cpu_seconds_total{cpu="1",mode="nice"} counter 2`,
			`node_cpu_seconds_total{cpu="0",mode="system"} counter 5`,
		}, []string{`mode="interrupt"`}},
		{"freebsd cpu", emitted(nodeCPU(true), cpus), []string{`node_cpu_seconds_total{cpu="1",mode="interrupt"} counter 0.25`}, nil},
		{"darwin meminfo", emitted(nodeMemoryDarwin, mem), []string{
			`node_memory_total_bytes{} gauge 1.7179869184e+10`,
			`node_memory_free_bytes{} gauge 3.221225472e+09`,
			`node_memory_wired_bytes{} gauge 2.147483648e+09`,
			`node_memory_swap_used_bytes{} gauge 1.073741824e+09`,
		}, []string{"node_memory_size_bytes"}},
		{"freebsd meminfo", emitted(nodeMemoryFreeBSD, mem), []string{
			`node_memory_size_bytes{} gauge 1.7179869184e+10`,
			`node_memory_laundry_bytes{} gauge 1.048576e+06`,
			`node_memory_swap_size_bytes{} gauge 4.294967296e+09`,
		}, []string{"node_memory_total_bytes"}},
		{"loadavg", emitted(nodeLoad, &loadAvg{0.5, 1.25, 2}), []string{`node_load1{} gauge 0.5`, `node_load5{} gauge 1.25`, `node_load15{} gauge 2`}, nil},
		{"filesystem", emitted(nodeFilesystem, mounts[:1]), []string{
			`node_filesystem_size_bytes{device="/dev/disk3s1",fstype="apfs",mountpoint="/"} gauge 5e+11`,
			`node_filesystem_avail_bytes{device="/dev/disk3s1",fstype="apfs",mountpoint="/"} gauge 2e+11`,
			`node_filesystem_files_free{device="/dev/disk3s1",fstype="apfs",mountpoint="/"} gauge 9e+08`,
			`node_filesystem_readonly{device="/dev/disk3s1",fstype="apfs",mountpoint="/"} gauge 1`,
		}, nil},
		{"darwin diskstats", emitted(nodeDiskDarwin, disks), []string{
			`node_disk_reads_completed_total{device="disk0"} counter 7`,
			`node_disk_written_bytes_total{device="disk0"} counter 8192`,
			`node_disk_read_time_seconds_total{device="disk0"} counter 1.5`,
		}, nil},
		{"freebsd devstat", emitted(nodeDevstat, disks), []string{
			`node_devstat_bytes_total{device="disk0",type="write"} counter 8192`,
			`node_devstat_transfers_total{device="disk0",type="read"} counter 7`,
			`node_devstat_duration_seconds_total{device="disk0",type="write"} counter 0.25`,
		}, nil},
		{"netdev", emitted(nodeNetdev, nets), []string{
			`node_network_receive_bytes_total{device="Ethernet 2"} counter 2000`,
			`node_network_transmit_drop_total{device="Ethernet 2"} counter 4`,
		}, nil},
		{"windows cpu", emitted(windowsCPU, cpus), []string{
			`windows_cpu_time_total{core="0,1",mode="privileged"} counter 6`,
			`windows_cpu_time_total{core="0,0",mode="interrupt"} counter 0.5`,
		}, []string{"node_"}},
		{"windows memory", emitted(windowsMemory, mem), []string{
			`windows_memory_physical_total_bytes{} gauge 1.7179869184e+10`,
			`windows_memory_physical_free_bytes{} gauge 9.663676416e+09`,
		}, nil},
		{"windows logical_disk", emitted(windowsLogicalDisk, logicalDisks{mounts: mounts[1:], io: map[string]diskIO{"C:": disks[0]}}), []string{
			`windows_logical_disk_size_bytes{volume="C:"} gauge 2.56e+11`,
			`windows_logical_disk_free_bytes{volume="C:"} gauge 1e+11`,
			`windows_logical_disk_read_bytes_total{volume="C:"} counter 4096`,
		}, nil},
		{"windows net", emitted(windowsNet, nets), []string{
			`windows_net_bytes_received_total{nic="Ethernet_2"} counter 2000`,
			`windows_net_packets_outbound_discarded_total{nic="Ethernet_2"} counter 4`,
		}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			lines := strings.Split(c.got, "\n")
			for _, w := range c.want {
				found := false
				for _, l := range lines {
					found = found || l == w
				}
				if !found {
					t.Errorf("missing %s in:\n%s", w, c.got)
				}
			}
			for _, n := range c.not {
				if strings.Contains(c.got, n) {
					t.Errorf("unexpected %s in:\n%s", n, c.got)
				}
			}
		})
	}
}

// A volume without I/O counters still has its space sent.
func TestWindowsLogicalDiskWithoutIO(t *testing.T) {
	got := emitted(windowsLogicalDisk, logicalDisks{mounts: []mount{{partition{Mountpoint: `D:\`}, usage{Total: 10, Free: 4}}}})
	if !strings.Contains(got, `windows_logical_disk_free_bytes{volume="D:"} gauge 4`) || strings.Contains(got, "reads_total") {
		t.Errorf("got:\n%s", got)
	}
}
