package ietf

import (
	"os"
	"testing"

	"github.com/tusgate/tusgate/test/e2e"
)

func TestMain(m *testing.M) { os.Exit(e2e.Main(m)) }
