package deploy

import (
	"os"
	"testing"

	"github.com/tusgate/tusgate/test/e2e"
)

// TestMain builds the tusgate binary: the Dockerfile test runs the image's
// command and HEALTHCHECK with it.
func TestMain(m *testing.M) { os.Exit(e2e.Main(m)) }
