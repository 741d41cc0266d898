package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// burstRun is one burst: n requests of one kind sent to one server at the same moment, each on
// its own connection, as a class signing in at nine o'clock does.
type burstRun struct {
	kind       string // "sign-in" or "sign-up"
	n          int
	srv        *server
	ok, busy   int // 200s and 503s
	other      []string
	p50, p99   time.Duration // of the 200s
	busyMax    time.Duration // the slowest 503
	last       time.Duration // from the start to the last answer
	retryAfter string        // the Retry-After values the 503s carried, distinct, in order
	peakRSS    int64
	failed     string
}

// bursts runs every burst size of sign-ins and sign-ups against Better-Auth and the Go server
// (cache on), one after the other with a pause between, recording the server's peak RSS.
// Sign-ins use the users signed up through each server's own endpoint (right password); sign-ups
// use addresses no other burst uses.
func (b *bench) bursts(ctx context.Context) {
	for _, n := range b.o.burstSizes {
		for _, kind := range []string{"sign-in", "sign-up"} {
			for _, s := range []*server{b.ba, b.goOn} {
				if ctx.Err() != nil {
					return
				}
				r := b.burst(ctx, s, kind, n)
				b.burstRuns = append(b.burstRuns, r)
				if r.failed != "" {
					b.fail(fmt.Sprintf("burst %s %d %s: %s", kind, n, s.label, r.failed))
					continue
				}
				b.logf("burst %-7s %3d  %-14s %3d ok, %3d busy (Retry-After %s, slowest %s), %d other  p50 %s  p99 %s  last %s  peak RSS %s",
					kind, n, s.label, r.ok, r.busy, orDash(r.retryAfter), fmtDur(r.busyMax), len(r.other), fmtDur(r.p50), fmtDur(r.p99), fmtDur(r.last), fmtMiB(r.peakRSS))
				// Let the line drain and sockets close before the next burst.
				time.Sleep(time.Second)
			}
		}
	}
}

func (b *bench) burst(ctx context.Context, s *server, kind string, n int) *burstRun {
	r := &burstRun{kind: kind, n: n, srv: s}
	if !s.alive() {
		r.failed = "server not running"
		return r
	}
	// A connection per request, opened when the burst starts, as from n browsers.
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 120 * time.Second}
	path := "/api/auth/sign-in/email"
	if kind == "sign-up" {
		path = "/api/auth/sign-up/email"
	}
	bodies := make([][]byte, n)
	for i := range bodies {
		m := map[string]string{"email": apiEmail(i % b.o.apiUsers), "password": benchPassword}
		if kind == "sign-up" {
			m = map[string]string{"name": "Burst", "email": fmt.Sprintf("burst-%d-%d@example.com", n, i), "password": benchPassword}
		}
		bodies[i], _ = json.Marshal(m)
	}
	type answer struct {
		status     int
		took       time.Duration
		retryAfter string
		err        error
	}
	answers := make([]answer, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, "POST", s.url+path, bytes.NewReader(bodies[i]))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Origin", baseURL)
			<-start
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				answers[i] = answer{err: err, took: time.Since(t0)}
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			answers[i] = answer{status: resp.StatusCode, took: time.Since(t0), retryAfter: resp.Header.Get("Retry-After")}
		}()
	}
	mon := watchRSS(s.pid())
	t0 := time.Now()
	close(start)
	wg.Wait()
	r.last = time.Since(t0)
	r.peakRSS = mon.peak()
	var took []time.Duration
	seen := map[string]bool{}
	var ras []int
	for _, a := range answers {
		switch {
		case a.err != nil:
			r.other = append(r.other, a.err.Error())
		case a.status == 200:
			r.ok++
			took = append(took, a.took)
		case a.status == 503:
			r.busy++
			r.busyMax = max(r.busyMax, a.took)
			if v, err := strconv.Atoi(a.retryAfter); err == nil && !seen[a.retryAfter] {
				seen[a.retryAfter] = true
				ras = append(ras, v)
			}
		default:
			r.other = append(r.other, strconv.Itoa(a.status))
		}
	}
	sort.Ints(ras)
	for _, v := range ras {
		r.retryAfter += strconv.Itoa(v) + " s, "
	}
	r.retryAfter = strings.TrimSuffix(r.retryAfter, ", ")
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	if len(took) > 0 {
		r.p50 = took[(len(took)-1)*50/100]
		r.p99 = took[(len(took)-1)*99/100]
	}
	return r
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// burstTable is the bursts' markdown table, with the Go server's goal checked: every request of
// a burst the hashing bound can finish in time succeeds, and a larger burst sheds only the
// excess.
func (b *bench) burstTable() string {
	if len(b.burstRuns) == 0 {
		return ""
	}
	var sb strings.Builder
	sb.WriteString("\nBursts: n requests sent at the same moment, each on its own connection (sign-ins: the users signed up through each server, right password; sign-ups: new addresses). ")
	sb.WriteString("p50/p99 of the 200s; a 503's time is the slowest refusal; last = start to the last answer; peak RSS of the server process during the burst.\n\n")
	sb.WriteString("| Burst | Server | 200 | 503 `SERVER_BUSY` (Retry-After; slowest) | other | p50 | p99 | last | peak RSS |\n")
	sb.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range b.burstRuns {
		if r.failed != "" {
			sb.WriteString(fmt.Sprintf("| %d %s | %s | failed: %s |||||||\n", r.n, r.kind, r.srv.label, r.failed))
			continue
		}
		busy := strconv.Itoa(r.busy)
		if r.busy > 0 {
			busy += " (" + orDash(r.retryAfter) + "; " + fmtDur(r.busyMax) + ")"
		}
		other := strconv.Itoa(len(r.other))
		if len(r.other) > 0 {
			other += ": " + strings.Join(r.other[:min(3, len(r.other))], "; ")
		}
		sb.WriteString(fmt.Sprintf("| %d %s | %s | %d | %s | %s | %s | %s | %s | %s |\n", r.n, r.kind, r.srv.label, r.ok, busy, other,
			fmtDur(r.p50), fmtDur(r.p99), fmtDur(r.last), fmtMiB(r.peakRSS)))
	}
	return sb.String()
}
