package main

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
)

// METRICS_ADDR serves /metrics, and nothing else, on a listener of its own.
func TestServeMetricsOnItsOwnListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	errs := make(chan error, 1)
	srv, err := serveMetrics(addr, slog.New(slog.DiscardHandler), errs)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	get := func(path string) (int, string) {
		res, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, "auth_hash_queue_depth") || !strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics = %d %.200s", code, body)
	}
	if code, _ := get("/api/auth/ok"); code != 404 {
		t.Errorf("the metrics listener answered another path with %d", code)
	}
}
