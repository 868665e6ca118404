package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/cloudflare/tableflip"

	"hawk/internal/alerting"
	"hawk/internal/server"
)

// Run serves until a signal says otherwise, with seamless upgrades:
//
//   - SIGHUP starts the binary at the same path with the same arguments.
//     The new process inherits the listening sockets (they are never
//     closed, so no connection is refused) and reports ready at once; this
//     process then drains (GOAWAY to every agent once its batches are
//     committed and acknowledged), closes the storage and exits. The new
//     process waits for that exit before it opens the storage and starts
//     accepting; connections that arrive meanwhile wait in the socket's
//     backlog. A SIGHUP while a previous process still drains is refused
//     with a message saying so; send it again once that process has exited.
//   - SIGTERM and SIGINT drain the same way, then exit.
//
// cfg.PIDFile, if set, is rewritten by each new process when it is ready.
func Run(cfg Config, log *slog.Logger, sig <-chan os.Signal) error {
	upg, err := tableflip.New(tableflip.Options{PIDFile: cfg.PIDFile, UpgradeTimeout: time.Duration(cfg.UpgradeTimeout)})
	if err != nil {
		return fmt.Errorf("upgrader: %w", err)
	}
	defer upg.Stop()
	agents, err := inherit(upg, "agents", cfg.Listen)
	if err != nil {
		return err
	}
	web, err := inherit(upg, "http", cfg.HTTP)
	if err != nil {
		return err
	}
	// Rule files are checked before this process says it is ready: a bad
	// one fails the upgrade and the previous process keeps serving.
	if err := alerting.CheckFiles(cfg.Alerting.RuleFiles); err != nil {
		return err
	}
	start := time.Now()
	if err := upg.Ready(); err != nil {
		return fmt.Errorf("upgrader ready: %w", err)
	}
	if upg.HasParent() {
		// The previous process drains now; its exit hands over the storage.
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(cfg.ShutdownTimeout)+30*time.Second)
		err := upg.WaitForParent(ctx)
		cancel()
		if err != nil {
			return fmt.Errorf("previous process did not hand over: %w", err)
		}
		log.Info("took over from the previous process", "waited", time.Since(start).Round(time.Millisecond))
	}
	d, err := Start(cfg, Listeners{Agents: agents, HTTP: web}, log)
	if err != nil {
		return err
	}
	if upg.HasParent() {
		log.Info("ingest resumed after upgrade", "pause", time.Since(start).Round(time.Millisecond))
	}
	return d.serveSignals(upg, sig)
}

// inherit returns the listener for role at addr: the one the previous
// process passed on, or a new one. Listeners are keyed by role as well as
// address, so that two roles configured with port 0 are not confused.
func inherit(upg *tableflip.Upgrader, role, addr string) (net.Listener, error) {
	ln, err := upg.Fds.ListenWithCallback("tcp", role+"@"+addr, func(network, _ string) (net.Listener, error) {
		return net.Listen(network, addr)
	})
	if err != nil {
		return nil, fmt.Errorf("listen %s (%s): %w", addr, role, err)
	}
	return ln, nil
}

// serveSignals handles signals until the daemon should exit, then drains.
func (d *Daemon) serveSignals(upg *tableflip.Upgrader, sig <-chan os.Signal) error {
	for {
		select {
		case s := <-sig:
			if s != syscall.SIGHUP {
				d.log.Info("draining", "signal", s.String())
				return d.drain()
			}
			d.log.Info("upgrade requested")
			if err := upg.Upgrade(); err != nil {
				d.log.Error("upgrade refused", "err", err, "hint", upgradeHint(err))
				continue
			}
			d.log.Info("new process ready; draining this one")
		case <-upg.Exit():
			return d.drain()
		case err := <-d.Err():
			if !errors.Is(err, server.ErrServerClosed) {
				d.log.Error("listener failed", "err", err)
			}
			return d.drain()
		}
	}
}

func upgradeHint(err error) string {
	switch err.Error() {
	case "parent hasn't exited":
		return "the previous process is still draining; send SIGHUP again once it has exited"
	case "upgrade in progress":
		return "an upgrade is already running"
	case "already upgraded":
		return "this process is already being replaced"
	}
	return "the new binary did not start or did not become ready; this process keeps serving"
}

func (d *Daemon) drain() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(d.cfg.ShutdownTimeout))
	defer cancel()
	return d.Shutdown(ctx)
}
