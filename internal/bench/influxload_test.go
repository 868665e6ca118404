package bench

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSumSeries(t *testing.T) {
	const text = `# HELP vm_rows_inserted_total x
# TYPE vm_rows_inserted_total counter
vm_rows_inserted_total{type="influx"} 1200
vm_rows_inserted_total{type="promremotewrite"} 5
hawk_server_samples_total{outcome="stored"} 3e+06 1700000000000
vm_rows 7
`
	f := func(series string, want float64) {
		t.Helper()
		got, err := sumSeries(strings.NewReader(text), series)
		if err != nil || got != want {
			t.Errorf("%s: got %v %v, want %v", series, got, err, want)
		}
	}
	f(`vm_rows_inserted_total{type="influx"}`, 1200)
	f(`vm_rows_inserted_total`, 1205)
	f(`hawk_server_samples_total{outcome="stored"}`, 3e6)
	f(`vm_rows`, 7)
	if _, err := sumSeries(strings.NewReader(text), "absent"); err == nil {
		t.Error("absent series: no error")
	}
}

// TestInfluxSends checks the lines RunInflux writes: every sample of every
// agent, each a line of the agent's series.
func TestInfluxSends(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var mu sync.Mutex
	lines := map[string]int{} // by instance
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var cw sync.WaitGroup
		defer cw.Wait()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			cw.Add(1)
			go func() {
				defer cw.Done()
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					_, rest, _ := strings.Cut(sc.Text(), "instance=")
					inst, _, _ := strings.Cut(rest, ",")
					mu.Lock()
					lines[inst]++
					mu.Unlock()
				}
			}()
		}
	}()
	res, err := RunInflux(context.Background(), InfluxConfig{Addr: ln.Addr().String(), Agents: 3, Series: 50, Batches: 4,
		Duration: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.SentSamples != 3*50*4 || len(res.Errors) != 0 {
		t.Fatalf("%+v", res)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		ok := len(lines) == 3 && lines["bench-000000"] == 200 && lines["bench-000002"] == 200
		mu.Unlock()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("received %v", lines)
		}
		time.Sleep(10 * time.Millisecond)
	}
	ln.Close()
	wg.Wait()
}
