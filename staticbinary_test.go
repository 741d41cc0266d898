package main

import (
	"context"
	"debug/elf"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// imageBudget is the container image's size target; binaryBudget leaves room in it for the
// distroless static base layer (about 2 MB: CA certificates, tzdata, passwd) and 500 kB to spare.
// The target was 30 MB until the passkey plugin: go-webauthn, the library the passkey issue asks
// for, brings every attestation format (TPM, Android, Apple, FIDO metadata, COSE) and adds 2.3 MB
// that no build option leaves out. 34 MB keeps the image small and leaves about 1.3 MB for the
// plugins still to come; this test is where a dependency that costs more shows.
// Metrics and tracing (issue 19) raised it by the 1.34 MB they measured (30.87 → 32.21 MB): about
// 0.9 MB for VictoriaMetrics/metrics and the instrumentation, 0.42 MB for the OpenTelemetry SDK.
// Their OTLP exporter is our own JSON one (obs/otlpjson.go): otlptracehttp would have added
// another 3.8 MB of protobuf and gRPC code.
const (
	imageBudget  = 35_340_000
	binaryBudget = imageBudget - 2_500_000
)

// The container image holds the binary and nothing else (distroless static). This proves what it
// relies on: a CGO_ENABLED=0 build, made as the Dockerfile makes it (version stamped), is
// statically linked, fits the image budget, reports its version, and started in an empty folder with an empty environment it creates its
// database, migrates, and serves the API and the web app.
func TestStaticBinaryRunsAlone(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped under -short")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "authserver")
	const stamp = "v0.0.0-stamped"
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+stamp, "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	if fi, err := os.Stat(bin); err != nil {
		t.Fatal(err)
	} else if fi.Size() > binaryBudget {
		t.Errorf("binary is %d bytes, over the %d left for it in a %d-byte image", fi.Size(), binaryBudget, imageBudget)
	} else {
		t.Logf("binary: %d bytes (budget %d)", fi.Size(), binaryBudget)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Fatalf("binary has a %v program header: it is dynamically linked", p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Fatalf("binary imports shared libraries %v", libs)
	}
	f.Close()

	// The commands answer and exit without starting a server (a server would outlive the timeout).
	for _, tt := range []struct {
		args     []string
		wantCode int
		want     string
	}{
		{[]string{"version"}, 0, "authserver " + stamp + "\n"},
		{[]string{"--help"}, 0, "Usage:"},
		{[]string{"-h"}, 0, "Usage:"},
		{[]string{"nonsense"}, 2, `unknown argument "nonsense"`},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		cmd := exec.CommandContext(ctx, bin, tt.args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		timedOut := ctx.Err() != nil
		cancel()
		code := cmd.ProcessState.ExitCode()
		if timedOut || code != tt.wantCode || !strings.Contains(string(out), tt.want) {
			t.Errorf("authserver %s = exit %d (%v), output %q; want exit %d and %q", strings.Join(tt.args, " "), code, err, out, tt.wantCode, tt.want)
		}
	}

	run := filepath.Join(dir, "empty")
	if err := os.Mkdir(run, 0o755); err != nil {
		t.Fatal(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	cmd := exec.Command(bin)
	cmd.Dir = run
	cmd.Env = []string{"PORT=" + port, "HOST=127.0.0.1"} // nothing else: no PATH, no HOME
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	base := "http://127.0.0.1:" + port
	var res *http.Response
	for i := 0; i < 100; i++ {
		if res, err = http.Get(base + "/readyz"); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", err, res)
	}
	res.Body.Close()
	res, err = http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "<div id=\"root\"") {
		t.Errorf("GET / = %d, want the web app's index.html", res.StatusCode)
	}
	res, err = http.Get(base + "/content/public/items")
	if err != nil || res.StatusCode != 200 {
		t.Errorf("content API: %v %v", err, res)
	}
	for _, want := range []string{"data/app.db", "data/secret"} {
		if _, err := os.Stat(filepath.Join(run, want)); err != nil {
			t.Errorf("%s not created in the empty folder: %v", want, err)
		}
	}
}
