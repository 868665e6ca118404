package collect

import (
	"runtime"

	"golang.org/x/sys/unix"

	"hawk/internal/rawio"
)

// linkWatch learns from the kernel whether any network interface changed.
//
// It is a route netlink socket subscribed to the link group: the kernel
// sends RTM_NEWLINK or RTM_DELLINK on it whenever an interface comes or
// goes or any of its attributes changes (flags, operstate, carrier and its
// counters, MTU, queue length, group, address, alias; a new speed or duplex
// comes with a carrier change). The socket is never waited on: the
// collector drains it without blocking when it collects, so an event wakes
// nobody, and a netclass collection with nothing announced need not read
// the ~13 attribute files of each interface.
type linkWatch struct {
	fd  int
	buf [4096]byte
}

// newLinkWatch returns nil if the kernel refuses the socket.
func newLinkWatch() *linkWatch {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: unix.RTMGRP_LINK}); err != nil {
		unix.Close(fd)
		return nil
	}
	w := &linkWatch{fd: fd}
	runtime.AddCleanup(w, func(fd int) { unix.Close(fd) }, fd)
	return w
}

// changed drains what the kernel sent since the last call and reports
// whether it was anything. A lost event (the socket's buffer overflowed)
// or any other error counts as a change.
func (w *linkWatch) changed() bool {
	changed := false
	for {
		// It never blocks, so it is a raw system call (package rawio).
		n, errno := rawio.RecvNB(w.fd, w.buf[:])
		switch {
		case errno == unix.EAGAIN:
			runtime.KeepAlive(w)
			return changed
		case errno == unix.EINTR:
			continue
		case errno != 0 || n == 0:
			runtime.KeepAlive(w)
			return true
		}
		changed = true
	}
}
