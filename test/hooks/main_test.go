// Package hooks_test runs the tusgate binary against a hook receiver that
// the test serves, and checks what each event carries and what the
// receiver's answers do to the client and the upload.
package hooks_test

import (
	"os"
	"testing"

	"github.com/tusgate/tusgate/test/e2e"
)

func TestMain(m *testing.M) { os.Exit(e2e.Main(m)) }
