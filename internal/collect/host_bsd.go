//go:build darwin || freebsd

package collect

import (
	"runtime"
	"slices"
	"strings"

	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/load"
)

func init() {
	freebsd := runtime.GOOS == "freebsd"
	register("cpu", true, "Exposes CPU statistics.", fromSource(readCPUTimes, nodeCPU(freebsd)))
	memoryNames := nodeMemoryDarwin
	if freebsd {
		memoryNames = nodeMemoryFreeBSD
	}
	register("meminfo", true, "Exposes memory statistics.", fromSource(readMemory, memoryNames))
	register("loadavg", true, "Exposes load average.", fromSource(readLoad, nodeLoad))
	register("filesystem", true, "Exposes filesystem statistics, such as disk space used.",
		fromSource(readMounts, nodeFilesystem))
	if freebsd {
		register("devstat", true, "Exposes device statistics.", fromSource(readDiskIO, nodeDevstat))
	} else {
		register("diskstats", true, "Exposes disk I/O statistics.", fromSource(readDiskIO, nodeDiskDarwin))
	}
	register("netdev", true, "Exposes network interface statistics such as bytes transferred.", fromSource(readNetIO, nodeNetdev))
}

// readLoad reads the load averages.
func readLoad() (*loadAvg, error) {
	l, err := load.Avg()
	if err != nil {
		return nil, err
	}
	return &loadAvg{l.Load1, l.Load5, l.Load15}, nil
}

// readDiskIO reads per-device I/O counters, in name order.
func readDiskIO() ([]diskIO, error) {
	m, err := disk.IOCounters()
	if err != nil {
		return nil, err
	}
	out := make([]diskIO, 0, len(m))
	for _, d := range m {
		out = append(out, diskIO{Name: d.Name, ReadCount: d.ReadCount, WriteCount: d.WriteCount,
			ReadBytes: d.ReadBytes, WriteBytes: d.WriteBytes, ReadTime: d.ReadTime, WriteTime: d.WriteTime})
	}
	slices.SortFunc(out, func(a, b diskIO) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
