package web

import (
	"os"
	"testing"

	"authserver/store/storetest"
)

// TestMain copies one migrated PostgreSQL template for each test's database (see storetest.Main):
// this package opens the most databases of any.
func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }
