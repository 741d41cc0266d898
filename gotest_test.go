package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// make test runs scripts/gotest.sh for minutes: it must show each package's result as the package
// finishes, and still end with the summary line, the skipped list and go test's failure status,
// which CI reads.
func TestGotestScriptShowsProgress(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test -race on a small module; skipped under -short")
	}
	script, err := filepath.Abs("scripts/gotest.sh")
	if err != nil {
		t.Fatal(err)
	}
	mod := t.TempDir()
	files := map[string]string{
		"go.mod": "module x\n\ngo 1.22\n",
		"a/a_test.go": `package a
import "testing"
func TestQuick(t *testing.T) {}
func TestLater(t *testing.T) { t.Skip("not here") }
`,
		"b/b_test.go": `package b
import ("testing"; "time")
func TestSlowFailure(t *testing.T) { time.Sleep(4 * time.Second); t.Fatal("broken") }
`,
	}
	for name, body := range files {
		p := filepath.Join(mod, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("bash", script, "./...")
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "TEST_DATABASE_URL=", "GOWORK=off")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var lines []string
	var sawOK time.Time
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if sawOK.IsZero() && strings.HasPrefix(sc.Text(), "ok") && strings.Contains(sc.Text(), "x/a") {
			sawOK = time.Now()
		}
	}
	waitErr := cmd.Wait()
	ended := time.Now()
	out := strings.Join(lines, "\n")
	if sawOK.IsZero() {
		t.Fatalf("no ok line for package x/a:\n%s", out)
	}
	if gap := ended.Sub(sawOK); gap < time.Second {
		t.Errorf("the ok line of x/a came %v before the end: no progress while the tests ran\n%s", gap, out)
	}
	if cmd.ProcessState.ExitCode() == 0 {
		t.Errorf("exit status 0 (%v) for a failing run", waitErr)
	}
	if !strings.Contains(out, "skipped 1 tests:\n  TestLater") {
		t.Errorf("no skipped list:\n%s", out)
	}
	if last := lines[len(lines)-1]; last != "tests: 1 passed, 1 failed, 1 skipped" {
		t.Errorf("last line = %q, want the summary", last)
	}
}
