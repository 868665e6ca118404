//go:build darwin || freebsd

package collect

import "runtime"

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
