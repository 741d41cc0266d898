package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// row is one line of the table.
type row struct {
	key      string // idle, idle-sqlite, ready-pg, ready-sqlite, get-session, sweep, feed, mixed, sign-in, overload
	title    string
	sessions int
	users    int
	conns    int
	srv      *server

	res   *wrkResult
	okRPS float64
	// cores used during the run by the server, PostgreSQL and everything else (not wrk)
	serverCores, pgCores, otherCores float64
	peakRSS                          int64
	cpuPerReq                        time.Duration

	p50, p99    string        // for rows that are not load runs
	readyMedian time.Duration // ready-sqlite
	note        string
	failed      string
	skipped     string

	vs      string   // ratio to Better-Auth
	targets []string // "≥25× ✓", "p99 < 10 ms MISSED (12 ms)"
	missed  []string // missed targets, for the summary
}

// The targets.
const (
	targetGetSessionCached   = 25.0
	targetGetSessionUncached = 10.0
	targetP99                = 10 * time.Millisecond
	targetSignIn             = 2.0
	targetRSSFraction        = 0.25
	targetIdle               = 30 << 20
	targetReady              = 200 * time.Millisecond
	// A sign-in waits at most 2 s for a hashing slot, then is refused with 503; a response later
	// than this means the queue is not bounded.
	targetOverloadMax = 3 * time.Second
)

func check(r *row, ok bool, text, measured string) {
	if ok {
		r.targets = append(r.targets, text+" ✓")
		return
	}
	r.targets = append(r.targets, fmt.Sprintf("**MISSED** %s (%s)", text, measured))
	r.missed = append(r.missed, fmt.Sprintf("%s, %s, %s: %s — measured %s", r.title, sessionsText(r), r.srv.label, text, measured))
}

func sessionsText(r *row) string {
	if r.sessions == 0 {
		return "—"
	}
	return fmt.Sprintf("%s (%s users)", short(r.sessions), short(r.users))
}

func short(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	case n >= 10_000:
		return fmt.Sprintf("%.0fk", float64(n)/1000)
	case n >= 1000:
		return fmt.Sprintf("%.1fk", float64(n)/1000)
	}
	return fmt.Sprint(n)
}

// findBA returns Better-Auth's row for the same scenario, session count and connections.
func (b *bench) findBA(key string, sessions, conns int) *row {
	for _, r := range b.rows {
		if r.srv != nil && r.srv.key == "ba" && r.key == key && r.sessions == sessions && r.conns == conns {
			return r
		}
	}
	return nil
}

func usable(r *row) bool { return r != nil && r.failed == "" && r.skipped == "" && r.res != nil }

// evaluate fills in the ratio and target columns.
func (b *bench) evaluate() {
	for _, r := range b.rows {
		if r.srv == nil || !r.srv.isGo() || r.failed != "" || r.skipped != "" {
			continue
		}
		switch r.key {
		case "idle", "idle-sqlite":
			if ba := b.baIdle(); ba > 0 && r.key == "idle" {
				r.vs = fmt.Sprintf("RSS %.2f×", float64(r.peakRSS)/float64(ba))
			}
			check(r, r.peakRSS > 0 && r.peakRSS < targetIdle, "idle < 30 MiB", fmtMiB(r.peakRSS))
		case "ready-sqlite":
			check(r, r.readyMedian < targetReady, "start → ready < 200 ms", fmtDur(r.readyMedian))
		case "get-session", "sweep", "mixed", "sign-in", "overload":
			ba := b.findBA(r.key, r.sessions, r.conns)
			if !usable(ba) || !usable(r) {
				r.vs = "n/a (no Better-Auth figure)"
				continue
			}
			if ba.okRPS == 0 || ba.peakRSS == 0 {
				r.vs = "n/a (Better-Auth completed no request)"
				continue
			}
			ratio := r.okRPS / ba.okRPS
			rss := float64(r.peakRSS) / float64(ba.peakRSS)
			r.vs = fmt.Sprintf("%.1f× req/s, RSS %.2f×", ratio, rss)
			switch {
			case r.key == "get-session" && r.conns == b.o.conns:
				want := targetGetSessionCached
				if r.srv.key == "go-off" {
					want = targetGetSessionUncached
				}
				check(r, ratio >= want, fmt.Sprintf("≥%.0f× req/s", want), fmt.Sprintf("%.1f×", ratio))
				check(r, time.Duration(r.res.P99)*time.Microsecond < targetP99, "p99 < 10 ms", fmtUS(r.res.P99))
				check(r, rss <= targetRSSFraction, "peak RSS ≤ ¼", fmt.Sprintf("%.2f×", rss))
			case r.key == "sign-in":
				check(r, ratio >= targetSignIn, "≥2× req/s", fmt.Sprintf("%.2f×", ratio))
				check(r, r.res.errorCount() == 0, "no errors", r.res.errorDetail())
			case r.key == "overload":
				check(r, time.Duration(r.res.Max)*time.Microsecond <= targetOverloadMax,
					fmt.Sprintf("bounded: max ≤ %s", fmtDur(targetOverloadMax)), "max "+fmtUS(r.res.Max))
				var bad []string
				for code, n := range r.res.Codes {
					if code != "503" && !strings.HasPrefix(code, "2") {
						bad = append(bad, fmt.Sprintf("%s×%d", code, n))
					}
				}
				if r.res.Timeout+r.res.Connect+r.res.Read+r.res.Write > 0 {
					bad = append(bad, "socket errors/timeouts")
				}
				check(r, len(bad) == 0, "no failures but 503 shedding", strings.Join(bad, ", "))
			}
		case "feed":
			ba := b.findBA("get-session", r.sessions, r.conns)
			if !usable(ba) || !usable(r) {
				continue
			}
			if ba.peakRSS == 0 {
				continue
			}
			rss := float64(r.peakRSS) / float64(ba.peakRSS)
			r.vs = fmt.Sprintf("RSS %.2f× BA get-session", rss)
			check(r, rss <= targetRSSFraction, "peak RSS ≤ ¼", fmt.Sprintf("%.2f×", rss))
		}
	}
}

func (b *bench) baIdle() int64 {
	if b.ba != nil {
		return b.ba.idleRSS
	}
	return 0
}

// table renders the markdown table.
func (b *bench) table() string {
	var sb strings.Builder
	sb.WriteString("| Scenario | Sessions (users) | Conns | Server | OK req/s | p50 | p99 | Errors | Peak RSS | CPU/req | vs Better-Auth | Targets |\n")
	sb.WriteString("|---|---|--:|---|--:|--:|--:|--:|--:|--:|---|---|\n")
	for _, r := range b.rows {
		label := "—"
		if r.srv != nil {
			label = r.srv.label
		}
		conns := "—"
		if r.conns > 0 {
			conns = fmt.Sprint(r.conns)
		}
		cells := []string{r.title, sessionsText(r), conns, label}
		switch {
		case r.skipped != "":
			cells = append(cells, "—", "—", "—", "—", "—", "—", r.skipped, "")
		case r.failed != "":
			msg := strings.ReplaceAll(r.failed, "\n", " ")
			msg = strings.ReplaceAll(msg, "|", "/")
			if len(msg) > 160 {
				msg = msg[:160] + "…"
			}
			cells = append(cells, "—", "—", "—", "—", fmtMiB(r.peakRSS), "—", "**FAILED**: "+msg, "")
		case r.res != nil:
			errs := thousands(r.res.errorCount())
			if d := r.res.errorDetail(); d != "" {
				errs += " (" + d + ")"
			}
			cpu := "—"
			if r.cpuPerReq > 0 {
				cpu = fmtDur(r.cpuPerReq)
			}
			p99 := fmtUS(r.res.P99)
			if r.key == "overload" {
				p99 += " (max " + fmtUS(r.res.Max) + ")"
			}
			vs := r.vs
			if r.srv.key == "ba" {
				vs = "baseline"
			}
			cells = append(cells, fmtRPS(r.okRPS), fmtUS(r.res.P50), p99, errs, fmtMiB(r.peakRSS), cpu, vs, strings.Join(r.targets, "; "))
		default:
			p50, p99 := r.p50, r.p99
			if p50 == "" {
				p50 = "—"
			}
			if p99 == "" {
				p99 = "—"
			}
			rss := "—"
			if r.peakRSS > 0 {
				rss = fmtMiB(r.peakRSS)
			}
			vs := r.vs
			if r.srv != nil && r.srv.key == "ba" {
				vs = "baseline"
			}
			if r.note != "" && r.key == "ready-sqlite" {
				vs = "runs: " + r.note
			}
			cells = append(cells, "—", p50, p99, "—", rss, "—", vs, strings.Join(r.targets, "; "))
		}
		sb.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	return sb.String()
}

// scaling says how the figures move with sessions/users and with connections.
func (b *bench) scaling() []string {
	var out []string
	byServer := func(key string, pick func(*row) bool) map[string][]*row {
		m := map[string][]*row{}
		for _, r := range b.rows {
			if r.key == key && usable(r) && pick(r) {
				m[r.srv.label] = append(m[r.srv.label], r)
			}
		}
		return m
	}
	order := []string{"Better-Auth", "Go, cache on", "Go, cache off"}
	pct := func(a, c float64) string {
		if a == 0 {
			return ""
		}
		return fmt.Sprintf(" (%+.0f%%)", (c/a-1)*100)
	}
	if len(b.o.sessions) > 1 {
		for _, key := range []string{"get-session", "feed"} {
			m := byServer(key, func(r *row) bool { return r.conns == b.o.conns })
			for _, label := range order {
				rs := m[label]
				if len(rs) < 2 {
					continue
				}
				first, last := rs[0], rs[len(rs)-1]
				out = append(out, fmt.Sprintf("%s, %s, %d conns: %s → %s sessions (%s → %s users): %s → %s req/s%s; p99 %s → %s; peak RSS %s → %s.",
					key, label, b.o.conns, short(first.sessions), short(last.sessions), short(first.users), short(last.users),
					fmtRPS(first.okRPS), fmtRPS(last.okRPS), pct(first.okRPS, last.okRPS),
					fmtUS(first.res.P99), fmtUS(last.res.P99), fmtMiB(first.peakRSS), fmtMiB(last.peakRSS)))
			}
		}
	}
	// A cache that starts cold can only hit sessions it has already seen in the run: with R
	// requests spread uniformly over N sessions, about N(1-e^(-R/N)) distinct ones are touched.
	for _, r := range b.rows {
		if (r.key == "get-session" || r.key == "feed") && usable(r) && r.srv.key == "go-on" && r.sessions > 0 {
			req, n := float64(r.res.Requests), float64(r.sessions)
			distinct := n * (1 - math.Exp(-req/n))
			if bound := 1 - distinct/req; bound < 0.9 {
				out = append(out, fmt.Sprintf("%s, %s, %s sessions: the run's %s requests touched ≈%s distinct sessions, so a cache starting cold could serve at most %.0f%% of them; "+
					"in steady state each session must come back within SESSION_CACHE_TTL (1 min) to hit. Raise -duration to see it.",
					r.key, r.srv.label, short(r.sessions), thousands(r.res.Requests), thousands(int64(distinct)), bound*100))
			}
		}
	}
	if len(b.o.sweepConns) > 0 && b.o.scenarios["sweep"] {
		first := b.o.sessions[0]
		m := map[string][]*row{}
		for _, r := range b.rows {
			if (r.key == "sweep" || r.key == "get-session") && r.sessions == first && usable(r) {
				m[r.srv.label] = append(m[r.srv.label], r)
			}
		}
		for _, label := range order {
			rs := m[label]
			if len(rs) < 2 {
				continue
			}
			sort.Slice(rs, func(i, j int) bool { return rs[i].conns < rs[j].conns })
			var parts []string
			for _, r := range rs {
				parts = append(parts, fmt.Sprintf("%d conns %s req/s (p99 %s, RSS %s)", r.conns, fmtRPS(r.okRPS), fmtUS(r.res.P99), fmtMiB(r.peakRSS)))
			}
			out = append(out, fmt.Sprintf("get-session, %s, %s sessions, by concurrency: %s.", label, short(first), strings.Join(parts, "; ")))
		}
	}
	return out
}

// machine describes where the run happened.
func (b *bench) machine() string {
	cpu := "unknown CPU"
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(raw), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	mem := ""
	if raw, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(raw), "MemTotal: %d kB", &kb); err == nil {
			mem = fmt.Sprintf(", %.0f GiB RAM", float64(kb)/(1<<20))
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	nodeV, _ := exec.Command(b.o.node, "--version").Output()
	wrkV, _ := exec.Command("wrk", "-v").CombinedOutput()
	wrkLine := strings.SplitN(string(wrkV), "\n", 2)[0]
	if f := strings.Fields(wrkLine); len(f) >= 2 {
		wrkLine = f[0] + " " + f[1]
	}
	pgV := ""
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if c, err := pgx.Connect(ctx, b.o.pgAdmin); err == nil {
		_ = c.QueryRow(ctx, "show server_version").Scan(&pgV)
		c.Close(ctx)
	}
	return fmt.Sprintf("%d × %s (nproc %d)%s, Linux %s; %s; Node %s; PostgreSQL %s on the same machine; %s",
		runtime.NumCPU(), cpu, runtime.NumCPU(), mem, strings.TrimSpace(string(kernel)), runtime.Version(),
		strings.TrimSpace(string(nodeV)), strings.Fields(pgV + " ?")[0], wrkLine)
}

func (b *bench) command() string {
	parts := []string{"go", "run", "./bench"}
	for _, a := range b.o.args {
		if strings.ContainsAny(a, " \t'\"$") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

func (b *bench) report() error {
	b.evaluate()
	o := b.o
	table := b.table()
	var missed []string
	for _, r := range b.rows {
		missed = append(missed, r.missed...)
	}
	var notes strings.Builder
	notes.WriteString(b.burstTable())
	if s := b.scaling(); len(s) > 0 {
		notes.WriteString("\nHow the figures grow:\n\n")
		for _, l := range s {
			notes.WriteString("- " + l + "\n")
		}
	}
	notes.WriteString("\nMissed targets: ")
	if len(missed) == 0 {
		notes.WriteString("none.\n")
	} else {
		notes.WriteString(fmt.Sprintf("%d.\n\n", len(missed)))
		for _, m := range missed {
			notes.WriteString("- " + m + "\n")
		}
	}
	if b.maxOther > 0.2 {
		notes.WriteString(fmt.Sprintf("\n**Warning:** other processes used up to %.2f cores during a run (load average at start %s): "+
			"the machine was not quiet and the figures are disturbed.\n", b.maxOther, b.loadAtStart))
	}
	fmt.Print("\n" + table + notes.String())

	if o.out == "-" {
		return nil
	}
	out := o.out
	if out == "" {
		name := "latest.md"
		if o.smoke {
			name = "smoke.md"
		}
		out = filepath.Join(b.root, "bench", "results", name)
	}
	var doc strings.Builder
	doc.WriteString("# authserver vs Better-Auth 1.7.25\n\n")
	doc.WriteString(fmt.Sprintf("- Date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST")))
	doc.WriteString(fmt.Sprintf("- Machine: %s\n", b.machine()))
	doc.WriteString(fmt.Sprintf("- Command: `%s` (took %s)\n", b.command(), time.Since(b.t0).Round(time.Second)))
	if b.o.serverBin == "" {
		// Read-only: which commit the measured binary was built from.
		if v, err := exec.Command("git", "-C", b.root, "describe", "--always", "--dirty").Output(); err == nil {
			doc.WriteString(fmt.Sprintf("- Server built from: `%s`\n", strings.TrimSpace(string(v))))
		}
	} else {
		doc.WriteString(fmt.Sprintf("- Server binary: `%s` (given with -server-bin)\n", b.o.serverBin))
	}
	doc.WriteString(fmt.Sprintf("- Quiet machine check: load average %s at start; other processes used at most %.2f cores during any run\n",
		b.loadAtStart, b.maxOther))
	doc.WriteString(fmt.Sprintf("- Load: wrk on the same machine, %d thread(s), constant connections, %s per run (sweep %s), %s warm-up; "+
		"get-session, feed and mixed at %d connections, sign-in at %d, overload at %d. "+
		"Session counts %s; users = max(%d signed up through each server, sessions/10).\n",
		o.threads, o.duration, o.sweepDuration, o.warmup, o.conns, o.signinConns, o.overloadConns, intsText(o.sessions), o.apiUsers))
	doc.WriteString("- Servers: Better-Auth 1.7.25 = `node compat/lib/ref-server.mjs` (NODE_ENV=production, pg pool 5, bearer plugin, rate limit off); " +
		"Go = this repository's binary with defaults (DB_MAX_CONNS 10, PASSWORD_HASH_CONCURRENCY = nproc) and LOG_LEVEL=" + o.goLogLevel +
		"; each server on its own database of one PostgreSQL, seeded identically. See bench/README.md for how to read the columns.\n\n")
	doc.WriteString(table)
	doc.WriteString(notes.String())
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(out, []byte(doc.String()), 0o644); err != nil {
		return err
	}
	b.logf("wrote %s", out)
	return nil
}

func intsText(v []int) string {
	var s []string
	for _, n := range v {
		s = append(s, short(n))
	}
	return strings.Join(s, ", ")
}
