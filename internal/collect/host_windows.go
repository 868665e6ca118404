package collect

import (
	"github.com/shirou/gopsutil/v4/disk"
)

// The collectors of windows_exporter's names; there is no load average on
// windows.
func init() {
	register("cpu", true, "CPU usage (windows_exporter cpu).", fromSource(readCPUTimes, windowsCPU))
	register("memory", true, "Memory usage (windows_exporter memory).", fromSource(readMemory, windowsMemory))
	register("logical_disk", true, "Volume space and I/O (windows_exporter logical_disk).", fromSource(readLogicalDisks, windowsLogicalDisk))
	register("net", true, "Network interface I/O (windows_exporter net).", fromSource(readNetIO, windowsNet))
}

// readLogicalDisks reads the volumes' usage and I/O counters.
func readLogicalDisks() (logicalDisks, error) {
	mounts, err := readMounts()
	if err != nil {
		return logicalDisks{}, err
	}
	d := logicalDisks{mounts: mounts, io: map[string]diskIO{}}
	io, _ := disk.IOCounters() // usage without I/O counters is still worth sending
	for name, c := range io {
		d.io[name] = diskIO{Name: c.Name, ReadCount: c.ReadCount, WriteCount: c.WriteCount, ReadBytes: c.ReadBytes, WriteBytes: c.WriteBytes}
	}
	return d, nil
}
