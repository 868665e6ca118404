package collect

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestCPUFixture(t *testing.T) {
	got := collectFixture(t, "cpu")
	check(t, got, "node_cpu_seconds_total", `cpu="0",mode="user"`, Counter, 144.79)
	check(t, got, "node_cpu_seconds_total", `cpu="0",mode="idle"`, Counter, 373.80)
	check(t, got, "node_cpu_seconds_total", `cpu="1",mode="system"`, Counter, 64.52)
	check(t, got, "node_cpu_seconds_total", `cpu="1",mode="steal"`, Counter, 0.38)
	check(t, got, "node_cpu_guest_seconds_total", `cpu="1",mode="nice"`, Counter, 0)
	if len(got) != 2*(8+2) {
		t.Errorf("%d samples, want 20 (the aggregate cpu line must be skipped)", len(got))
	}
}

func TestStatFixture(t *testing.T) {
	got := collectFixture(t, "stat")
	check(t, got, "node_intr_total", "", Counter, 1440507)
	check(t, got, "node_context_switches_total", "", Counter, 3203368)
	check(t, got, "node_boot_time_seconds", "", Gauge, 1795682446)
	check(t, got, "node_forks_total", "", Counter, 25038)
	check(t, got, "node_procs_running", "", Gauge, 6)
	check(t, got, "node_procs_blocked", "", Gauge, 0)
	if len(got) != 6 {
		t.Errorf("%d samples, want 6", len(got))
	}
}

func TestMeminfoFixture(t *testing.T) {
	got := collectFixture(t, "meminfo")
	check(t, got, "node_memory_MemTotal_bytes", "", Gauge, 24684084*1024)
	check(t, got, "node_memory_Active_anon_bytes", "", Gauge, 1560*1024)
	check(t, got, "node_memory_HugePages_Total", "", Gauge, 0)
	check(t, got, "node_memory_Hugepagesize_bytes", "", Gauge, 2048*1024)
	if len(got) != 54 {
		t.Errorf("%d samples, want one per line of the fixture (54)", len(got))
	}
	for _, s := range got {
		if strings.ContainsAny(s.Name, "()") {
			t.Errorf("unrenamed field %s", s.Name)
		}
		if s.Help != "Memory information field "+strings.TrimPrefix(s.Name, "node_memory_")+"." {
			t.Errorf("help of %s: %q", s.Name, s.Help)
		}
	}
}

func TestLoadavgFixture(t *testing.T) {
	got := collectFixture(t, "loadavg")
	check(t, got, "node_load1", "", Gauge, 3.66)
	check(t, got, "node_load5", "", Gauge, 1.97)
	check(t, got, "node_load15", "", Gauge, 0.90)
}

func TestNetdevFixture(t *testing.T) {
	got := collectFixture(t, "netdev")
	check(t, got, "node_network_receive_bytes_total", `device="eth0"`, Counter, 358306914)
	check(t, got, "node_network_receive_packets_total", `device="eth0"`, Counter, 23755)
	check(t, got, "node_network_transmit_bytes_total", `device="eth0"`, Counter, 1904029)
	check(t, got, "node_network_transmit_colls_total", `device="ifb1"`, Counter, 0)
	check(t, got, "node_network_receive_nohandler_total", `device="eth0"`, Counter, 5)
	absent(t, got, "node_network_receive_nohandler_total", `device="ifb1"`) // no sysfs entry
	for _, s := range got {
		if s.Labels == `device="lo"` {
			t.Errorf("lo is excluded by default: %v", s)
		}
	}
	if len(got) != 3*16+2 {
		t.Errorf("%d samples, want 50", len(got))
	}
}

func TestNetclassFixture(t *testing.T) {
	got := collectFixture(t, "netclass")
	check(t, got, "node_network_up", `device="eth0"`, Gauge, 1)
	check(t, got, "node_network_up", `device="lo"`, Gauge, 0)
	check(t, got, "node_network_mtu_bytes", `device="eth0"`, Gauge, 1400)
	check(t, got, "node_network_speed_bytes", `device="eth0"`, Gauge, -125000)
	check(t, got, "node_network_flags", `device="eth0"`, Gauge, 0x1003)
	check(t, got, "node_network_iface_id", `device="ifb0"`, Gauge, 2)
	check(t, got, "node_network_carrier_changes_total", `device="eth0"`, Counter, 2)
	check(t, got, "node_network_info", `address="02:fc:00:00:00:01",broadcast="ff:ff:ff:ff:ff:ff",device="eth0",duplex="unknown",ifalias="",operstate="up"`, Gauge, 1)
	absent(t, got, "node_network_carrier", `device="ifb0"`) // unreadable while down
	absent(t, got, "node_network_speed_bytes", `device="lo"`)
}

func TestDiskstatsFixture(t *testing.T) {
	got := collectFixture(t, "diskstats")
	dev := `device="vda"`
	check(t, got, "node_disk_reads_completed_total", dev, Counter, 44560)
	check(t, got, "node_disk_read_bytes_total", dev, Counter, 1985314*512)
	check(t, got, "node_disk_read_time_seconds_total", dev, Counter, 9.382)
	check(t, got, "node_disk_written_bytes_total", dev, Counter, 7374272*512)
	check(t, got, "node_disk_io_now", dev, Gauge, 0)
	check(t, got, "node_disk_io_time_seconds_total", dev, Counter, 10.168)
	check(t, got, "node_disk_io_time_weighted_seconds_total", dev, Counter, 35.626)
	check(t, got, "node_disk_discards_completed_total", dev, Counter, 32538)
	check(t, got, "node_disk_discarded_sectors_total", dev, Counter, 22506512)
	check(t, got, "node_disk_flush_requests_total", dev, Counter, 13601)
	check(t, got, "node_disk_flush_requests_time_seconds_total", dev, Counter, 0.52)
	check(t, got, "node_disk_info", `device="vda",major="254",minor="0",model="",path="",revision="",serial="",wwn=""`, Gauge, 1)
	// An 11-column line from an old kernel has no discard or flush columns.
	check(t, got, "node_disk_written_bytes_total", `device="sda"`, Counter, 64000*512)
	check(t, got, "node_disk_io_time_weighted_seconds_total", `device="sda"`, Counter, 4)
	absent(t, got, "node_disk_discards_completed_total", `device="sda"`)
	absent(t, got, "node_disk_reads_completed_total", `device="vda1"`)
}

func TestDiskstatsUdevInfo(t *testing.T) {
	cfg := fixtureConfig(t)
	cfg.RootfsPath = t.TempDir()
	writeFile(t, cfg.RootfsPath+"/run/udev/data/b254:0", "S:disk/by-id/virtio-x\nE:ID_MODEL=QEMU_DISK\nE:ID_PATH=pci-0000:00:05.0\nE:ID_SERIAL_SHORT=abc123\nE:ID_WWN=0x5000\n")
	got, _ := collectWith(t, cfg, "diskstats")
	check(t, got, "node_disk_info", `device="vda",major="254",minor="0",model="QEMU_DISK",path="pci-0000:00:05.0",revision="",serial="abc123",wwn="0x5000"`, Gauge, 1)
}

func TestFilesystemFixture(t *testing.T) {
	got := collectFixture(t, "filesystem")
	root := `device="/dev/vda",fstype="ext4",mountpoint="/"`
	n := float64(len("testdata/rootfs/")) // see fakeStatfs
	check(t, got, "node_filesystem_size_bytes", root, Gauge, 1000*n*4096)
	check(t, got, "node_filesystem_free_bytes", root, Gauge, 500*n*4096)
	check(t, got, "node_filesystem_avail_bytes", root, Gauge, 400*n*4096)
	check(t, got, "node_filesystem_files", root, Gauge, 100*n)
	check(t, got, "node_filesystem_files_free", root, Gauge, 90*n)
	check(t, got, "node_filesystem_readonly", root, Gauge, 0)
	check(t, got, "node_filesystem_device_error", root, Gauge, 0)
	check(t, got, "node_filesystem_readonly", `device="/dev/vdb1",fstype="xfs",mountpoint="/srv/my data"`, Gauge, 1)
	broken := `device="/dev/vdc",fstype="ext4",mountpoint="/srv/broken"`
	check(t, got, "node_filesystem_device_error", broken, Gauge, 1) // exactly once although mounted twice
	absent(t, got, "node_filesystem_size_bytes", broken)
	var mps []string
	for _, s := range got {
		if s.Name == "node_filesystem_device_error" {
			mps = append(mps, s.Labels[strings.Index(s.Labels, "mountpoint="):])
		}
	}
	want := []string{`mountpoint="/"`, `mountpoint="/srv/my data"`, `mountpoint="/srv/broken"`, `mountpoint="/run"`}
	if !slices.Equal(mps, want) {
		t.Errorf("mount points %v, want %v (proc, sys, dev, cgroup, overlay excluded)", mps, want)
	}
}

// The remembered header lines follow the files: new values are read
// through them, and a line that changed is mapped anew.
func TestNetstatLinesChange(t *testing.T) {
	cfg := fixtureConfig(t)
	cfg.ProcPath = t.TempDir()
	write := func(netstat, snmp, snmp6 string) {
		writeFile(t, filepath.Join(cfg.ProcPath, "net", "netstat"), netstat)
		writeFile(t, filepath.Join(cfg.ProcPath, "net", "snmp"), snmp)
		writeFile(t, filepath.Join(cfg.ProcPath, "net", "snmp6"), snmp6)
	}
	s := only(t, cfg, "netstat")
	write("TcpExt: ListenDrops TCPTimeouts SyncookiesSent\nTcpExt: 1 2 3\n", "Tcp: RtoMin ActiveOpens\nTcp: 200 5\n", "Udp6InErrors 3\nIp6InReceives 9\n")
	samples(s)
	write("TcpExt: ListenDrops TCPTimeouts SyncookiesSent\nTcpExt: 11 12 13\n", "Tcp: RtoMin ActiveOpens\nTcp: 200 15\n", "Udp6InErrors 13\nIp6InReceives 19\n")
	got := samples(s)
	check(t, got, "node_netstat_TcpExt_ListenDrops", "", Untyped, 11)
	check(t, got, "node_netstat_TcpExt_TCPTimeouts", "", Untyped, 12)
	check(t, got, "node_netstat_TcpExt_SyncookiesSent", "", Untyped, 13)
	check(t, got, "node_netstat_Tcp_ActiveOpens", "", Untyped, 15)
	check(t, got, "node_netstat_Udp6_InErrors", "", Untyped, 13)
	if len(got) != 5 {
		t.Errorf("%d samples, want 5: %v", len(got), got)
	}
	write("TcpExt: TCPTimeouts ListenDrops\nTcpExt: 7 8\n", "Tcp: ActiveOpens RtoMin\nTcp: 25 200\n", "Udp6NoPorts 4\nIp6InReceives 19\n")
	got = samples(s)
	check(t, got, "node_netstat_TcpExt_TCPTimeouts", "", Untyped, 7)
	check(t, got, "node_netstat_TcpExt_ListenDrops", "", Untyped, 8)
	check(t, got, "node_netstat_Tcp_ActiveOpens", "", Untyped, 25)
	check(t, got, "node_netstat_Udp6_NoPorts", "", Untyped, 4)
	absent(t, got, "node_netstat_Udp6_InErrors")
	absent(t, got, "node_netstat_TcpExt_SyncookiesSent")
	write("TcpExt: TCPTimeouts ListenDrops\nTcpExt: 7\n", "Tcp: ActiveOpens RtoMin\nTcp: 25 200\n", "")
	failures := s.Stats()[0].Failures
	samples(s)
	if s.Stats()[0].Failures != failures+1 {
		t.Error("a value line shorter than its remembered header was accepted")
	}
}

func TestNetstatFixture(t *testing.T) {
	got := collectFixture(t, "netstat")
	check(t, got, "node_netstat_Tcp_ActiveOpens", "", Untyped, 71)
	check(t, got, "node_netstat_Tcp_InSegs", "", Untyped, 24587)
	check(t, got, "node_netstat_Tcp_OutRsts", "", Untyped, 2)
	check(t, got, "node_netstat_Ip6_InOctets", "", Untyped, 128)
	check(t, got, "node_netstat_Icmp6_InMsgs", "", Untyped, 1)
	check(t, got, "node_netstat_Udp6_InDatagrams", "", Untyped, 0)
	check(t, got, "node_netstat_TcpExt_TCPTimeouts", "", Untyped, 2)
	absent(t, got, "node_netstat_Tcp_MaxConn")
	absent(t, got, "node_netstat_Tcp_RtoMin")
	for _, s := range got {
		if !netstatFields.MatchString(strings.TrimPrefix(s.Name, "node_netstat_")) {
			t.Errorf("%s passes the default field filter", s.Name)
		}
	}
	for _, s := range got {
		if s.Name == "node_netstat_Tcp_InSegs" && s.Help != "Statistic TcpInSegs." {
			t.Errorf("help %q", s.Help)
		}
	}
}

func TestVmstatFixture(t *testing.T) {
	got := collectFixture(t, "vmstat")
	check(t, got, "node_vmstat_pgfault", "", Untyped, 17520555)
	check(t, got, "node_vmstat_pswpin", "", Untyped, 0)
	check(t, got, "node_vmstat_oom_kill", "", Untyped, 0)
	absent(t, got, "node_vmstat_nr_free_pages")
}

func TestSockstatFixture(t *testing.T) {
	got := collectFixture(t, "sockstat")
	check(t, got, "node_sockstat_sockets_used", "", Gauge, 13)
	check(t, got, "node_sockstat_TCP_tw", "", Gauge, 39)
	check(t, got, "node_sockstat_TCP_mem", "", Gauge, 3)
	check(t, got, "node_sockstat_TCP_mem_bytes", "", Gauge, 3*float64(os.Getpagesize()))
	check(t, got, "node_sockstat_FRAG_memory", "", Gauge, 0)
	check(t, got, "node_sockstat_TCP6_inuse", "", Gauge, 0)
	check(t, got, "node_sockstat_FRAG6_memory", "", Gauge, 0)
}

func TestSoftnetFixture(t *testing.T) {
	got := collectFixture(t, "softnet")
	check(t, got, "node_softnet_processed_total", `cpu="0"`, Counter, 0xcb)
	check(t, got, "node_softnet_processed_total", `cpu="1"`, Counter, 0x5f71)
	check(t, got, "node_softnet_dropped_total", `cpu="1"`, Counter, 0)
	check(t, got, "node_softnet_received_rps_total", `cpu="0"`, Counter, 0)
	check(t, got, "node_softnet_flow_limit_count_total", `cpu="0"`, Counter, 0)
	check(t, got, "node_softnet_backlog_len", `cpu="1"`, Gauge, 0)
}

func TestConntrackFixture(t *testing.T) {
	got := collectFixture(t, "conntrack")
	check(t, got, "node_nf_conntrack_entries", "", Gauge, 0)
	check(t, got, "node_nf_conntrack_entries_limit", "", Gauge, 262144)
	check(t, got, "node_nf_conntrack_stat_found", "", Gauge, 0x10+0x05)
	check(t, got, "node_nf_conntrack_stat_invalid", "", Gauge, 4)
	check(t, got, "node_nf_conntrack_stat_ignore", "", Gauge, 0x100+0xff)
	check(t, got, "node_nf_conntrack_stat_insert", "", Gauge, 0x21)
	check(t, got, "node_nf_conntrack_stat_insert_failed", "", Gauge, 1)
	check(t, got, "node_nf_conntrack_stat_drop", "", Gauge, 2)
	check(t, got, "node_nf_conntrack_stat_early_drop", "", Gauge, 4)
	check(t, got, "node_nf_conntrack_stat_search_restart", "", Gauge, 7)
}

func TestSmallProcFixtures(t *testing.T) {
	got := collectFixture(t, "arp")
	check(t, got, "node_arp_entries", `device="docker0"`, Gauge, 1)
	check(t, got, "node_arp_entries", `device="eth0"`, Gauge, 2)

	got = collectFixture(t, "udp_queues")
	check(t, got, "node_udp_queues", `ip="v4",queue="tx"`, Gauge, 0x200)
	check(t, got, "node_udp_queues", `ip="v4",queue="rx"`, Gauge, 0x100+0xa00)
	check(t, got, "node_udp_queues", `ip="v6",queue="rx"`, Gauge, 0)

	got = collectFixture(t, "filefd")
	check(t, got, "node_filefd_allocated", "", Gauge, 964)
	check(t, got, "node_filefd_maximum", "", Gauge, 2466170)

	got = collectFixture(t, "entropy")
	check(t, got, "node_entropy_available_bits", "", Gauge, 189)
	check(t, got, "node_entropy_pool_size_bits", "", Gauge, 256)

	got = collectFixture(t, "pressure")
	check(t, got, "node_pressure_io_waiting_seconds_total", "", Counter, 4.510784)
	check(t, got, "node_pressure_io_stalled_seconds_total", "", Counter, 2.235237)
	check(t, got, "node_pressure_memory_stalled_seconds_total", "", Counter, 0)
	absent(t, got, "node_pressure_cpu_stalled_seconds_total")
	absent(t, got, "node_pressure_irq_stalled_seconds_total") // no irq file

	got = collectFixture(t, "schedstat")
	check(t, got, "node_schedstat_running_seconds_total", `cpu="0"`, Counter, 301.284554370)
	check(t, got, "node_schedstat_waiting_seconds_total", `cpu="1"`, Counter, 19.347023459)
	check(t, got, "node_schedstat_timeslices_total", `cpu="1"`, Counter, 1003434)

	got = collectFixture(t, "uname")
	check(t, got, "node_uname_info", `domainname="(none)",machine="x86_64",nodename="vm",release="6.18.44-fc-v669",sysname="Linux",version="#1 SMP PREEMPT_DYNAMIC @0"`, Gauge, 1)
}

func TestTimeFixture(t *testing.T) {
	got := collectFixture(t, "time")
	check(t, got, "node_time_seconds", "", Gauge, float64(time.Date(2026, 11, 26, 8, 30, 0, 0, time.UTC).Unix())+0.5)
	check(t, got, "node_time_zone_offset_seconds", `time_zone="CET"`, Gauge, 3600)
	check(t, got, "node_time_clocksource_available_info", `clocksource="tsc",device="0"`, Gauge, 1)
	check(t, got, "node_time_clocksource_available_info", `clocksource="kvm-clock",device="0"`, Gauge, 1)
	check(t, got, "node_time_clocksource_current_info", `clocksource="tsc",device="0"`, Gauge, 1)
}

func TestTimexFixture(t *testing.T) {
	got := collectFixture(t, "timex")
	check(t, got, "node_timex_offset_seconds", "", Gauge, -1.5e-6) // STA_NANO: ns
	check(t, got, "node_timex_frequency_adjustment_ratio", "", Gauge, 1.00001)
	check(t, got, "node_timex_maxerror_seconds", "", Gauge, 0.016)
	check(t, got, "node_timex_estimated_error_seconds", "", Gauge, 0.002)
	check(t, got, "node_timex_status", "", Gauge, 0x2001)
	check(t, got, "node_timex_loop_time_constant", "", Gauge, 7)
	check(t, got, "node_timex_tick_seconds", "", Gauge, 0.01)
	check(t, got, "node_timex_pps_frequency_hertz", "", Gauge, 1e-6)
	check(t, got, "node_timex_pps_jitter_seconds", "", Gauge, 250e-9)
	check(t, got, "node_timex_pps_stability_hertz", "", Gauge, 2e-6)
	check(t, got, "node_timex_pps_stability_exceeded_total", "", Counter, 4)
	check(t, got, "node_timex_tai_offset_seconds", "", Gauge, 37)
	check(t, got, "node_timex_sync_status", "", Gauge, 1)
	if len(got) != 17 {
		t.Errorf("%d samples, want 17", len(got))
	}
}

func TestTimexUnsynchronised(t *testing.T) {
	cfg := fixtureConfig(t)
	cfg.seams.adjtimex = func(tx *unix.Timex) (int, error) { tx.Offset = 3000; return 5, nil } // TIME_ERROR, µs
	got, _ := collectWith(t, cfg, "timex")
	check(t, got, "node_timex_sync_status", "", Gauge, 0)
	check(t, got, "node_timex_offset_seconds", "", Gauge, 0.003)
}

func TestSysFixtures(t *testing.T) {
	got := collectFixture(t, "cpufreq")
	check(t, got, "node_cpu_frequency_hertz", `cpu="0"`, Gauge, 1.8e9)
	check(t, got, "node_cpu_frequency_max_hertz", `cpu="0"`, Gauge, 3.7e9)
	check(t, got, "node_cpu_scaling_frequency_hertz", `cpu="0"`, Gauge, 1.799998e9)
	check(t, got, "node_cpu_scaling_frequency_min_hertz", `cpu="1"`, Gauge, 8e8)
	check(t, got, "node_cpu_scaling_governor", `cpu="0",governor="powersave"`, Gauge, 1)
	check(t, got, "node_cpu_scaling_governor", `cpu="0",governor="performance"`, Gauge, 0)
	absent(t, got, "node_cpu_frequency_hertz", `cpu="1"`)

	got = collectFixture(t, "thermal_zone")
	check(t, got, "node_thermal_zone_temp", `type="x86_pkg_temp",zone="0"`, Gauge, 41)
	check(t, got, "node_thermal_zone_temp", `type="acpitz",zone="1"`, Gauge, -1.5)
	check(t, got, "node_cooling_device_cur_state", `name="0",type="Processor"`, Gauge, 0)
	check(t, got, "node_cooling_device_max_state", `name="0",type="Processor"`, Gauge, 3)

	got = collectFixture(t, "hwmon")
	check(t, got, "node_hwmon_chip_names", `chip="coretemp",chip_name="coretemp"`, Gauge, 1)
	check(t, got, "node_hwmon_temp_celsius", `chip="coretemp",sensor="temp1"`, Gauge, 45)
	check(t, got, "node_hwmon_temp_crit_celsius", `chip="coretemp",sensor="temp1"`, Gauge, 100)
	check(t, got, "node_hwmon_temp_crit_alarm_celsius", `chip="coretemp",sensor="temp1"`, Gauge, 0)
	check(t, got, "node_hwmon_temp_max_celsius", `chip="coretemp",sensor="temp1"`, Gauge, 84)
	check(t, got, "node_hwmon_fan_rpm", `chip="coretemp",sensor="fan1"`, Gauge, 1200)
	check(t, got, "node_hwmon_fan_min_rpm", `chip="coretemp",sensor="fan1"`, Gauge, 300)
	check(t, got, "node_hwmon_in_volts", `chip="coretemp",sensor="in0"`, Gauge, 1.05)
	check(t, got, "node_hwmon_sensor_label", `chip="coretemp",label="Package id 0",sensor="temp1"`, Gauge, 1)
	check(t, got, "node_hwmon_temp_celsius", `chip="nct6775_656",sensor="temp2"`, Gauge, 30.5)

	got = collectFixture(t, "powersupplyclass")
	check(t, got, "node_power_supply_online", `power_supply="AC"`, Gauge, 1)
	check(t, got, "node_power_supply_capacity", `power_supply="BAT0"`, Gauge, 87)
	check(t, got, "node_power_supply_voltage_volt", `power_supply="BAT0"`, Gauge, 12.345)
	check(t, got, "node_power_supply_energy_watthour", `power_supply="BAT0"`, Gauge, 41)
	check(t, got, "node_power_supply_info", `power_supply="BAT0",type="Battery"`, Gauge, 1)
}

// A host without cpufreq is looked at again only every cpufreqRescan
// collections; a driver loaded later shows up after at most that many.
func TestCPUFreqRescan(t *testing.T) {
	cfg := fixtureConfig(t)
	cfg.SysPath = t.TempDir()
	cpu := filepath.Join(cfg.SysPath, "devices", "system", "cpu", "cpu0")
	if err := os.MkdirAll(cpu, 0o755); err != nil {
		t.Fatal(err)
	}
	s := only(t, cfg, "cpufreq")
	freq := func() (n int) {
		s.Collect(func(m Metric) {
			if m.Name == "node_cpu_frequency_max_hertz" {
				n++
			}
		})
		return n
	}
	if n := freq(); n != 0 {
		t.Fatalf("%d samples without cpufreq", n)
	}
	writeFile(t, filepath.Join(cpu, "cpufreq", "cpuinfo_max_freq"), "3700000\n")
	for i := range cpufreqRescan {
		if n := freq(); n != 0 {
			t.Fatalf("collection %d after a scan that found nothing looked again", i+1)
		}
	}
	if n := freq(); n != 1 {
		t.Fatalf("%d samples after %d collections, want the new cpufreq's 1", n, cpufreqRescan+1)
	}
	if n := freq(); n != 1 {
		t.Fatalf("%d samples once cpufreq is known, want 1", n)
	}
}

func TestAbsentSysSourcesSendNothing(t *testing.T) {
	cfg := fixtureConfig(t)
	cfg.SysPath = t.TempDir()
	for _, name := range []string{"cpufreq", "thermal_zone", "hwmon", "powersupplyclass", "netclass"} {
		got, st := collectWith(t, cfg, name)
		if len(got) != 0 || st.Failures != 0 {
			t.Errorf("%s over an empty /sys: %d samples, %+v", name, len(got), st)
		}
	}
}

// textfileDir copies a fixture directory and sets a known mtime, which git
// does not keep.
func textfileDir(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	ents, err := os.ReadDir(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("testdata", name, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, e.Name())
		writeFile(t, p, string(b))
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestTextfile(t *testing.T) {
	cfg := fixtureConfig(t)
	cfg.TextfileDir = textfileDir(t, "textfile")
	got, _ := collectWith(t, cfg, "textfile")
	check(t, got, "app_jobs_total", `host="x",queue="a"`, Counter, 3)
	check(t, got, "app_jobs_total", `queue="b"`, Counter, 7)
	check(t, got, "app_temperature", "", Gauge, -1.5)
	check(t, got, "no_type_metric", "", Untyped, 42)
	check(t, got, "app_latency_seconds_bucket", `le="0.1"`, Untyped, 1)
	check(t, got, "app_latency_seconds_bucket", `le="+Inf"`, Untyped, 5)
	check(t, got, "app_latency_seconds_sum", "", Untyped, 3.5)
	check(t, got, "app_latency_seconds_count", "", Untyped, 5)
	check(t, got, "app_size_bytes", `quantile="0.99"`, Untyped, 900)
	check(t, got, "app_size_bytes_count", "", Untyped, 40)
	check(t, got, "node_textfile_mtime_seconds", `file="`+filepath.Join(cfg.TextfileDir, "app.prom")+`"`, Gauge, 1704164645)
	check(t, got, "node_textfile_scrape_error", "", Gauge, 0)
	absent(t, got, "ignored_metric")
}

func TestTextfileErrors(t *testing.T) {
	cfg := fixtureConfig(t)
	cfg.TextfileDir = textfileDir(t, "textfile-bad")
	got, st := collectWith(t, cfg, "textfile")
	check(t, got, "node_textfile_scrape_error", "", Gauge, 1)
	check(t, got, "good_metric", "", Untyped, 2)
	absent(t, got, "stamped_metric")
	if want := []string{"good_metric", "node_textfile_mtime_seconds", "node_textfile_scrape_error"}; !slices.Equal(names(got), want) {
		t.Errorf("names %v, want %v", names(got), want)
	}
	if st.Failures != 0 {
		t.Errorf("a bad file is reported in node_textfile_scrape_error, not as a failure: %+v", st)
	}

	cfg.TextfileDir = filepath.Join(t.TempDir(), "missing")
	got, _ = collectWith(t, cfg, "textfile")
	check(t, got, "node_textfile_scrape_error", "", Gauge, 1)

	cfg.TextfileDir = ""
	got, _ = collectWith(t, cfg, "textfile")
	check(t, got, "node_textfile_scrape_error", "", Gauge, 0)
	if len(got) != 1 {
		t.Errorf("%d samples without a directory, want 1", len(got))
	}
}

// TestNetclassStaticCache checks that dynamic attributes are read on every
// collection while static ones are cached, and that a removed device is
// forgotten.
func TestNetclassStaticCache(t *testing.T) {
	cfg := fixtureConfig(t)
	cfg.SysPath = t.TempDir()
	dir := filepath.Join(cfg.SysPath, "class", "net", "eth9")
	for f, v := range map[string]string{"operstate": "up\n", "mtu": "1500\n", "address": "02:00:00:00:00:01\n", "ifindex": "9\n"} {
		writeFile(t, filepath.Join(dir, f), v)
	}
	s := only(t, cfg, "netclass")
	samples(s)
	writeFile(t, filepath.Join(dir, "mtu"), "9000\n")
	writeFile(t, filepath.Join(dir, "address"), "02:00:00:00:00:02\n")
	got := samples(s)
	check(t, got, "node_network_mtu_bytes", `device="eth9"`, Gauge, 9000)
	check(t, got, "node_network_info", `address="02:00:00:00:00:01",broadcast="",device="eth9",duplex="",ifalias="",operstate="up"`, Gauge, 1)
	for range netclassStaticRefresh {
		got = samples(s)
	}
	check(t, got, "node_network_info", `address="02:00:00:00:00:02",broadcast="",device="eth9",duplex="",ifalias="",operstate="up"`, Gauge, 1)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	got = samples(s)
	absent(t, got, "node_network_up")
	if n := len(s.entries[0].c.(*netclassCollector).devs); n != 0 {
		t.Errorf("%d cached devices after removal, want 0", n)
	}
}

// The process fixture is /proc/<pid>/stat and limits of a hawk-server on
// the Debian VM, and its fd directory as empty files.
func TestProcessFixture(t *testing.T) {
	got := collectFixture(t, "process")
	check(t, got, "process_cpu_seconds_total", "", Counter, (21+16)/100.0)
	check(t, got, "process_virtual_memory_bytes", "", Gauge, 1919639552)
	check(t, got, "process_resident_memory_bytes", "", Gauge, 9629*4096)
	check(t, got, "process_start_time_seconds", "", Gauge, 1795682446+107851/100.0)
	check(t, got, "process_open_fds", "", Gauge, 20)
	check(t, got, "process_max_fds", "", Gauge, 20000)
	check(t, got, "process_virtual_memory_max_bytes", "", Gauge, 18446744073709551615)
	if len(got) != 7 {
		t.Errorf("%d samples, want 7", len(got))
	}
}

// TestProcessLive compares the process collector with what the test
// process knows about itself.
func TestProcessLive(t *testing.T) {
	got, st := collectWith(t, Config{}, "process")
	if st.Failures != 0 || st.NoData != 0 {
		t.Fatalf("stat %+v", st)
	}
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	check(t, got, "process_max_fds", "", Gauge, float64(rl.Cur))
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip(err)
	}
	// ReadDir and the collector each count the descriptor they open.
	if fds := findValue(got, "process_open_fds"); fds < 3 || fds > float64(len(entries))+2 {
		t.Errorf("process_open_fds = %v, ReadDir saw %d", fds, len(entries))
	}
	now := float64(time.Now().Unix())
	if start := findValue(got, "process_start_time_seconds"); start < now-3600 || start > now+1 {
		t.Errorf("process_start_time_seconds = %v, now %v", start, now)
	}
	if cpu := findValue(got, "process_cpu_seconds_total"); cpu < 0 {
		t.Errorf("process_cpu_seconds_total = %v", cpu)
	}
}

// The os fixture is this VM's /etc/os-release (Debian 12).
func TestOSFixture(t *testing.T) {
	got := collectFixture(t, "os")
	check(t, got, "node_os_info", `build_id="",id="debian",id_like="",image_id="",image_version="",name="Debian GNU/Linux",pretty_name="Debian GNU/Linux 12 (bookworm)",variant="",variant_id="",version="12 (bookworm)",version_codename="bookworm",version_id="12"`, Gauge, 1)
	check(t, got, "node_os_version", `id="debian",id_like="",name="Debian GNU/Linux"`, Gauge, 12)
	absent(t, got, "node_os_support_end_timestamp_seconds")
}

// TestOSRelease covers the fallback to /usr/lib/os-release, quoting,
// SUPPORT_END, a version without a number, and a changed file.
func TestOSRelease(t *testing.T) {
	cfg := fixtureConfig(t)
	cfg.RootfsPath = t.TempDir()
	if _, st := collectWith(t, cfg, "os"); st.NoData != 1 || st.Failures != 0 {
		t.Errorf("no os-release: stat %+v, want one NoData run", st)
	}
	writeFile(t, cfg.RootfsPath+"/usr/lib/os-release", "# comment\nNAME='Arch Linux'\nID=arch\nID_LIKE=\"a \\\"b\\\" \\$c\"\nVERSION_ID=rolling\nSUPPORT_END=2030-06-30\n")
	got, st := collectWith(t, cfg, "os")
	if st.Failures != 0 || st.NoData != 0 {
		t.Fatalf("stat %+v", st)
	}
	check(t, got, "node_os_info", `build_id="",id="arch",id_like="a \"b\" $c",image_id="",image_version="",name="Arch Linux",pretty_name="",variant="",variant_id="",version="",version_codename="",version_id="rolling"`, Gauge, 1)
	absent(t, got, "node_os_version")
	check(t, got, "node_os_support_end_timestamp_seconds", "", Gauge, float64(time.Date(2030, 6, 30, 0, 0, 0, 0, time.UTC).Unix()))

	// /etc/os-release wins over /usr/lib; a changed file is parsed again.
	s := only(t, cfg, "os")
	for _, tc := range []struct {
		content string
		want    float64
	}{{"VERSION_ID=\"22.04\"\n", 22.04}, {"VERSION_ID=11.7.1\n", 11.7}, {"VERSION_ID=12.\n", 12}} {
		writeFile(t, cfg.RootfsPath+"/etc/os-release", tc.content)
		var v float64
		s.Collect(func(m Metric) {
			if m.Name == "node_os_version" {
				v = m.Value
			}
		})
		if v != tc.want {
			t.Errorf("%q: node_os_version %v, want %v", tc.content, v, tc.want)
		}
	}
	writeFile(t, cfg.RootfsPath+"/etc/os-release", "ID=x\nno equals sign\n")
	s.Collect(func(Metric) {})
	if st := s.Stats()[0]; st.Failures != 1 {
		t.Errorf("malformed os-release: stat %+v, want one failure", st)
	}
}
