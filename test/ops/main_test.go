// Package ops tests what an operator relies on, against running tusgate
// binaries: /metrics values, the Grafana dashboard's metric names, traces
// through two replicas into an OTLP receiver, and the SIGTERM drain.
package ops

import (
	"os"
	"testing"

	"github.com/tusgate/tusgate/test/e2e"
)

func TestMain(m *testing.M) { os.Exit(e2e.Main(m)) }
