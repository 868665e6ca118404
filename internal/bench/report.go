package bench

import (
	"fmt"
	"io"
	"os"
	"time"
)

func selfPID() int { return os.Getpid() }

func perSec(n uint64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func ratio(a, b uint64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3fms", float64(d)/1e6) }

// serverLines prints the CPU and RSS of a measured process, per sample
// when samples > 0.
func serverLines(w io.Writer, who string, st [2]ProcStat, err error, samples uint64) {
	if err != nil {
		fmt.Fprintf(w, "%s: not measured: %v\n", who, err)
		return
	}
	if st[0].At.IsZero() {
		return
	}
	cpu := st[1].CPU - st[0].CPU
	wall := st[1].At.Sub(st[0].At)
	fmt.Fprintf(w, "%s cpu: %.2fs over %.2fs (%.2f cores)", who, cpu.Seconds(), wall.Seconds(), cpu.Seconds()/max(wall.Seconds(), 1e-9))
	if samples > 0 {
		fmt.Fprintf(w, ", %.0f ns/sample", float64(cpu.Nanoseconds())/float64(samples))
	}
	fmt.Fprintf(w, "\n%s rss: %.1f MiB -> %.1f MiB\n", who, float64(st[0].RSS)/(1<<20), float64(st[1].RSS)/(1<<20))
}

// Print writes the result in the form docs/performance.md quotes.
func (r *LoadResult) Print(w io.Writer) {
	fmt.Fprintf(w, "agents: %d connected of %d\n", r.Connected, r.Agents)
	fmt.Fprintf(w, "sent: %d samples in %d batches over %.2fs: %.0f samples/s\n", r.SentSamples, r.SentBatches, r.Send.Seconds(), perSec(r.SentSamples, r.Send))
	fmt.Fprintf(w, "acked: %d samples in %d batches by %.2fs: %.0f samples/s\n", r.AckedSamples, r.AckedBatches, r.Wall.Seconds(), perSec(r.AckedSamples, r.Wall))
	fmt.Fprintf(w, "ack latency: p50 %s p99 %s max %s (n=%d)\n", ms(r.Ack.Quantile(0.5)), ms(r.Ack.Quantile(0.99)), ms(r.Ack.Max()), r.Ack.Count())
	if r.Echo.Count() > 0 {
		fmt.Fprintf(w, "heartbeat echo: p50 %s p99 %s max %s (n=%d)\n", ms(r.Echo.Quantile(0.5)), ms(r.Echo.Quantile(0.99)), ms(r.Echo.Max()), r.Echo.Count())
	}
	fmt.Fprintf(w, "wire: %.2f bytes/sample steady (%d B / %d samples), %.2f bytes/sample overall\n",
		ratio(r.SteadyBytes, r.SteadySamples), r.SteadyBytes, r.SteadySamples, ratio(r.BytesWritten, r.AckedSamples))
	fmt.Fprintf(w, "errors: %s\n", formatCounts(r.Errors))
	if r.CounterErr != nil {
		fmt.Fprintf(w, "server counter: %v\n", r.CounterErr)
	} else if r.Counted != [2]float64{} {
		fmt.Fprintf(w, "server counter: +%.0f samples stored\n", r.Counted[1]-r.Counted[0])
	}
	serverLines(w, "server", r.Server, r.ServerErr, r.AckedSamples)
	serverLines(w, "client", r.Client, nil, r.AckedSamples)
}
