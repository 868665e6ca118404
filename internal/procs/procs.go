// Package procs knows how many processors hawk-server's work may use,
// raises GOMAXPROCS above it where Go's garbage collector would otherwise
// make the network wait, and runs the work that takes a core for long at
// a lower priority than the work that answers agents (Background).
//
// The collector's background mark workers are meant to use a quarter of
// GOMAXPROCS. Where a quarter does not come out near a whole number of
// processors (GOMAXPROCS 1, 2, 3 and 6) the runtime runs "fractional"
// workers instead, on every processor by turns. A fractional worker gives
// its processor up only when its share of the mark phase is used or the
// scheduler preempts it (after 10 ms); unlike an idle worker it does not
// look at the network meanwhile. With two processors, one running a
// fractional worker and the other one too or a CPU-bound request, an
// agent's batch that has arrived is not even seen until the runtime's
// monitor polls the network, up to 10 ms later. A trace of hawk-server
// under a series-lookup flood showed exactly that: both processors in
// gcBgMarkWorker for the 12 ms before a batch was seen 10 ms late
// (docs/security.md, section 9, "GOMAXPROCS and the collector's
// workers"). With at least four processors the runtime runs one dedicated
// worker and polls the network from the others.
//
// Raising GOMAXPROCS adds threads, not cores: the work that takes a core
// each (PromQL queries and lookups, series definitions, commits) is still
// bounded by CPUs, the processors the process was given.
package procs

import (
	"os"
	"runtime"
)

// cpus is GOMAXPROCS as the runtime chose it (the machine's or the
// container's CPUs, or the environment's GOMAXPROCS), read before
// anything in the process could change it.
var cpus = runtime.GOMAXPROCS(0)

// CPUs is the processors the process was given: the bound of its
// CPU-bound work.
func CPUs() int { return cpus }

// ForCollector is the smallest GOMAXPROCS of at least n for which the
// runtime runs whole dedicated mark workers and no fractional ones: a
// quarter of it, rounded, is within 30% of the exact quarter (the rule
// of runtime.gcControllerState.startCycle).
func ForCollector(n int) int {
	for m := max(n, 1); ; m++ {
		goal := float64(m) / 4
		dedicated := float64(int(goal + 0.5))
		if e := dedicated/goal - 1; dedicated > 0 && e >= -0.3 && e <= 0.3 {
			return m
		}
	}
}

// Raise sets GOMAXPROCS to ForCollector(CPUs()) unless the environment
// sets GOMAXPROCS (the operator's choice wins), and reports the value
// before and after. Setting it stops the runtime from following later
// changes of the container's CPU limit.
func Raise() (from, to int) {
	from = runtime.GOMAXPROCS(0)
	if os.Getenv("GOMAXPROCS") != "" {
		return from, from
	}
	to = ForCollector(cpus)
	if to != from {
		runtime.GOMAXPROCS(to)
	}
	return from, to
}
