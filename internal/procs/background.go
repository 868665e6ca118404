package procs

// Background runs f on a goroutine of its own, at the lowest scheduling
// priority where the system offers one for a single thread (Lower), and
// returns when f does; a panic of f is raised again in the caller. It is
// for work that takes a core for long (a query's parse and evaluation, a
// lookup's encoding) beside work that must answer within a millisecond
// (agents' acknowledgements): the kernel then gives the core to the
// latter as soon as it wakes, instead of at the end of a time slice of a
// few milliseconds. Each call starts and ends an OS thread (some tens of
// microseconds).
//
// Work at that priority gets no CPU while the process's other work takes
// every core, and any lock it holds meanwhile waits with it: it suits
// work bounded by a timeout that holds no lock the other work needs for
// long.
func Background(f func()) {
	var p any
	done := make(chan struct{})
	go func() { // owned by the caller, which waits for it
		defer close(done)
		defer func() { p = recover() }()
		Lower()
		f()
	}()
	<-done
	if p != nil {
		panic(p)
	}
}
