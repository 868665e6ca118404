//go:build !linux

package collect

import (
	"log/slog"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/mem"
	"github.com/shirou/gopsutil/v4/net"
)

// The system calls of the collectors off Linux, through gopsutil; the
// names are given in hostmetrics.go.

// sourced is a collector that reads a value with read and names it with
// emit.
type sourced[T any] struct {
	read func() (T, error)
	emit func(e *emitter, v T)
}

func (c sourced[T]) update(e *emitter) error {
	v, err := c.read()
	if err != nil {
		return err
	}
	c.emit(e, v)
	return nil
}

// fromSource makes the factory of a sourced collector.
func fromSource[T any](read func() (T, error), emit func(*emitter, T)) factory {
	return func(*Config, *slog.Logger) (collector, error) { return sourced[T]{read, emit}, nil }
}

// readCPUTimes reads per-CPU times.
func readCPUTimes() ([]cpuTimes, error) {
	ts, err := cpu.Times(true)
	if err != nil {
		return nil, err
	}
	out := make([]cpuTimes, len(ts))
	for i, t := range ts {
		out[i] = cpuTimes{CPU: t.CPU, User: t.User, System: t.System, Idle: t.Idle, Nice: t.Nice, Irq: t.Irq}
	}
	return out, nil
}

// readMemory reads physical and swap (or commit) memory.
func readMemory() (memory, error) {
	vm, err := mem.VirtualMemory()
	if err != nil {
		return memory{}, err
	}
	m := memory{vm: vmStat{Total: vm.Total, Available: vm.Available, Free: vm.Free, Active: vm.Active,
		Inactive: vm.Inactive, Wired: vm.Wired, Laundry: vm.Laundry, Buffers: vm.Buffers}}
	if sw, err := mem.SwapMemory(); err == nil {
		m.swap = swapStat{Total: sw.Total, Used: sw.Used}
	}
	return m, nil
}

// readMounts lists the mounts and their usage; a mount whose usage cannot
// be read is left out.
func readMounts() ([]mount, error) {
	parts, err := disk.Partitions(false)
	if err != nil {
		return nil, err
	}
	var out []mount
	for _, p := range parts {
		u, err := disk.Usage(p.Mountpoint)
		if err != nil || u == nil {
			continue
		}
		out = append(out, mount{
			partition{Device: p.Device, Mountpoint: p.Mountpoint, Fstype: p.Fstype, Opts: p.Opts},
			usage{Total: u.Total, Free: u.Free, InodesTotal: u.InodesTotal, InodesFree: u.InodesFree},
		})
	}
	return out, nil
}

// readNetIO reads per-interface counters.
func readNetIO() ([]netIO, error) {
	ifs, err := net.IOCounters(true)
	if err != nil {
		return nil, err
	}
	out := make([]netIO, len(ifs))
	for i, n := range ifs {
		out[i] = netIO{Name: n.Name, BytesSent: n.BytesSent, BytesRecv: n.BytesRecv, PacketsSent: n.PacketsSent,
			PacketsRecv: n.PacketsRecv, Errin: n.Errin, Errout: n.Errout, Dropin: n.Dropin, Dropout: n.Dropout}
	}
	return out, nil
}
