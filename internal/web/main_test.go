package web

import (
	"testing"

	"go.uber.org/goleak"
)

// The fake API and the browser tests start servers and goroutines; every one
// of them must be gone when the tests end.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
