package protocol_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/tusgate/tusgate/backends/filestore"
	"github.com/tusgate/tusgate/state/boltstore"
	"github.com/tusgate/tusgate/test/protocol"
)

// TestProtocolBoltFile runs the suite on the embedded default: bbolt state
// and files on disk, both in a temporary directory.
func TestProtocolBoltFile(t *testing.T) {
	protocol.Run(t, func(t *testing.T) protocol.Env {
		dir := t.TempDir()
		st, err := boltstore.Open(filepath.Join(dir, "state.db"), boltstore.Options{LeaseTTL: 3 * time.Second})
		if err != nil {
			t.Fatalf("open bolt store: %v", err)
		}
		t.Cleanup(func() { _ = st.Close() })
		be, err := filestore.New(filepath.Join(dir, "data"), filestore.Options{})
		if err != nil {
			t.Fatalf("open file store: %v", err)
		}
		t.Cleanup(func() { _ = be.Close() })
		return protocol.Env{Store: st, Locker: st, Backend: be}
	})
}
