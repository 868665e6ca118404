package bench

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) != "" { // this test binary as an attack's worker
		if err := testWorker(); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// workerEnv holds, for the test binary run as a worker, the JSON of its
// testWorkerConfig.
const workerEnv = "HAWK_BENCH_TEST_WORKER"

type testWorkerConfig struct {
	Addr  string
	Under time.Duration
	Sizes AttackSizes
}

// workerCommand is an AttackConfig.Worker that runs this test binary as
// the worker, with c.
func workerCommand(t *testing.T, c testWorkerConfig) []string {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return []string{"/usr/bin/env", workerEnv + "=" + string(b), os.Args[0]}
}

func testWorker() error {
	var c testWorkerConfig
	if err := json.Unmarshal([]byte(os.Getenv(workerEnv)), &c); err != nil {
		return err
	}
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	name := fs.String("worker-attack", "", "")
	good := fs.String("worker-good-id", "", "")
	prefix := fs.String("worker-prefix", "", "")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return err
	}
	return RunAttackWorker(context.Background(), AttackConfig{Addr: c.Addr, Under: c.Under, Sizes: c.Sizes}, *name, *good, *prefix, os.Stdin, os.Stdout)
}
