package collect

import (
	"fmt"
	"log/slog"

	"golang.org/x/sys/unix"
)

func init() {
	register("timex", true, "Exposes selected adjtimex(2) system call stats.", newTimex)
}

// timexCollector calls adjtimex(2) in read-only mode (Modes == 0).
type timexCollector struct {
	adjtimex func(*unix.Timex) (int, error)
}

func newTimex(cfg *Config, _ *slog.Logger) (collector, error) {
	return &timexCollector{adjtimex: cfg.seams.adjtimex}, nil
}

const (
	timexStaNano   = 0x2000 // STA_NANO: offset and jitter are in ns, not µs
	timexTimeError = 5      // TIME_ERROR: clock not synchronised
	ppm16          = 65536 * 1e6
)

func (c *timexCollector) update(e *emitter) error {
	var tx unix.Timex
	state, err := c.adjtimex(&tx)
	if err != nil {
		return fmt.Errorf("timex: adjtimex: %w", err)
	}
	sync := 1.0
	if state == timexTimeError {
		sync = 0
	}
	div := 1e6
	if tx.Status&timexStaNano != 0 {
		div = 1e9
	}
	e.gauge("node_timex_offset_seconds", "Time offset in between local system and reference clock.", float64(tx.Offset)/div)
	e.gauge("node_timex_frequency_adjustment_ratio", "Local clock frequency adjustment.", 1+float64(tx.Freq)/ppm16)
	e.gauge("node_timex_maxerror_seconds", "Maximum error in seconds.", float64(tx.Maxerror)/1e6)
	e.gauge("node_timex_estimated_error_seconds", "Estimated error in seconds.", float64(tx.Esterror)/1e6)
	e.gauge("node_timex_status", "Value of the status array bits.", float64(tx.Status))
	e.gauge("node_timex_loop_time_constant", "Phase-locked loop time constant.", float64(tx.Constant))
	e.gauge("node_timex_tick_seconds", "Seconds between clock ticks.", float64(tx.Tick)/1e6)
	e.gauge("node_timex_pps_frequency_hertz", "Pulse per second frequency.", float64(tx.Ppsfreq)/ppm16)
	e.gauge("node_timex_pps_jitter_seconds", "Pulse per second jitter.", float64(tx.Jitter)/div)
	e.gauge("node_timex_pps_shift_seconds", "Pulse per second interval duration.", float64(tx.Shift))
	e.gauge("node_timex_pps_stability_hertz", "Pulse per second stability, average of recent frequency changes.", float64(tx.Stabil)/ppm16)
	e.counter("node_timex_pps_jitter_total", "Pulse per second count of jitter limit exceeded events.", float64(tx.Jitcnt))
	e.counter("node_timex_pps_calibration_total", "Pulse per second count of calibration intervals.", float64(tx.Calcnt))
	e.counter("node_timex_pps_error_total", "Pulse per second count of calibration errors.", float64(tx.Errcnt))
	e.counter("node_timex_pps_stability_exceeded_total", "Pulse per second count of stability limit exceeded events.", float64(tx.Stbcnt))
	e.gauge("node_timex_tai_offset_seconds", "International Atomic Time (TAI) offset.", float64(tx.Tai))
	e.gauge("node_timex_sync_status", "Is clock synchronized to a reliable server (1 = yes, 0 = no).", sync)
	return nil
}
