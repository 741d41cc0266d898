// Command bench measures this server against the real Better-Auth 1.7.25 (from npm), both on the
// same PostgreSQL server, seeded identically, driven in the same sitting with the same load by
// wrk, and prints one markdown table: successful requests/s, p50/p99 latency, errors, peak RSS
// and server CPU per request for each server, with the Go server's ratios to Better-Auth and the
// targets it met or missed. It also writes the table, with the machine and the command, to
// bench/results/latest.md (smoke runs: bench/results/smoke.md).
//
//	go run ./bench                      # the full run, about 3–4 minutes on 2 cores
//	go run ./bench -smoke               # ≈3 s per scenario, few sessions: under a minute
//	go run ./bench -scenarios get-session -sessions 1000,100000,300000 -duration 20s
//
// Needs wrk (apt-get install -y wrk), Node 20 with compat/node_modules installed
// (cd compat && npm ci), and PostgreSQL at -pg (default postgres://postgres@127.0.0.1:5432/test).
// The exit status is non-zero only when something failed to run, never because a target was
// missed (missed targets are said in the table). See bench/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The scenarios, in the order they run. get-session and feed run at every session count, the
// sweep at the first, mixed, sign-in, overload and the bursts once at the last.
var allScenarios = []string{"startup", "get-session", "feed", "sweep", "mixed", "sign-in", "overload", "burst"}

type options struct {
	duration, sweepDuration, warmup, timeout time.Duration
	conns, signinConns, overloadConns        int
	threads, apiUsers                        int
	sweepConns, sessions, burstSizes         []int
	scenarios                                map[string]bool
	smoke, keep                              bool
	pgAdmin, out, goLogLevel, serverBin      string
	node, secret                             string
	args                                     []string
}

func parseFlags(args []string) (*options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	o := &options{args: args}
	var scen, sess, sweep, bursts string
	fs.DurationVar(&o.duration, "duration", 8*time.Second, "length of each measured run (whole seconds)")
	fs.DurationVar(&o.sweepDuration, "sweep-duration", 4*time.Second, "length of each run of the concurrency sweep")
	fs.DurationVar(&o.warmup, "warmup", 4*time.Second, "unmeasured get-session load on each server before the first measurement (JIT, pools, caches)")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "wrk's per-request timeout (a request slower than this counts as an error)")
	fs.IntVar(&o.conns, "conns", 32, "connections for get-session, feed and mixed")
	fs.IntVar(&o.signinConns, "signin-conns", 16, "connections for sign-in (well within the Go server's hashing bound, so nothing is shed)")
	fs.IntVar(&o.overloadConns, "overload-conns", 64, "connections for the sign-in overload run")
	fs.StringVar(&sweep, "sweep-conns", "1,128", "extra connection counts for get-session (the concurrency sweep, at the first session count); empty for none")
	fs.StringVar(&bursts, "burst-sizes", "30,100,300", "requests per burst of concurrent sign-ins and of sign-ups (the burst scenario)")
	fs.StringVar(&sess, "sessions", "1000,100000", "seeded session counts; users = max(-users, sessions/10)")
	fs.IntVar(&o.apiUsers, "users", 64, "users created through each server's own sign-up endpoint (real scrypt hashes); the rest are inserted by SQL")
	fs.StringVar(&scen, "scenarios", strings.Join(allScenarios, ","), "comma-separated subset of: "+strings.Join(allScenarios, ", "))
	fs.BoolVar(&o.smoke, "smoke", false, "short run for CI: 3 s per scenario, 500 sessions, no sweep or overload (explicit flags still win)")
	fs.StringVar(&o.pgAdmin, "pg", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL admin URL (databases are created and dropped through it)")
	// Half the cores: wrk shares the machine with the server under test, and on 2 cores a second
	// wrk thread is one more runnable thread for the scheduler to interleave with the server's,
	// which showed as a 10-13 ms p99 at 1k sessions with the cache on (6 ms with one thread). One
	// thread drove 35k req/s here using 0.4 of a core, so it is not the bottleneck of any run.
	fs.IntVar(&o.threads, "threads", max(1, runtime.NumCPU()/2), "wrk threads (default: half the cores)")
	fs.StringVar(&o.out, "out", "", "results file (default bench/results/latest.md; with -smoke bench/results/smoke.md; \"-\" for none)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary folder (server logs) and the databases")
	fs.StringVar(&o.goLogLevel, "go-log-level", "warn", "LOG_LEVEL of the Go server (info logs one line per request)")
	fs.StringVar(&o.serverBin, "server-bin", "", "use this server binary instead of building one from the repository")
	fs.StringVar(&o.node, "node", "node", "the node executable")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.smoke {
		def := func(name string, apply func()) {
			if !set[name] {
				apply()
			}
		}
		def("duration", func() { o.duration = 3 * time.Second })
		def("sweep-duration", func() { o.sweepDuration = 2 * time.Second })
		def("warmup", func() { o.warmup = time.Second })
		def("sessions", func() { sess = "500" })
		def("users", func() { o.apiUsers = 8 })
		def("scenarios", func() { scen = "startup,get-session,feed,mixed,sign-in" })
	}
	var err error
	if o.sessions, err = intList(sess); err != nil || len(o.sessions) == 0 {
		return nil, fmt.Errorf("-sessions: %q", sess)
	}
	sort.Ints(o.sessions)
	if o.burstSizes, err = intList(bursts); err != nil {
		return nil, fmt.Errorf("-burst-sizes: %q", bursts)
	}
	if o.sweepConns, err = intList(sweep); err != nil {
		return nil, fmt.Errorf("-sweep-conns: %q", sweep)
	}
	o.scenarios = map[string]bool{}
	for _, s := range strings.Split(scen, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		known := false
		for _, k := range allScenarios {
			known = known || k == s
		}
		if !known {
			return nil, fmt.Errorf("-scenarios: unknown %q (known: %s)", s, strings.Join(allScenarios, ", "))
		}
		o.scenarios[s] = true
	}
	if o.apiUsers < 1 || o.conns < 1 || o.signinConns < 1 || o.overloadConns < 1 || o.threads < 1 {
		return nil, errors.New("-users, -conns, -signin-conns, -overload-conns and -threads must be positive")
	}
	if o.duration < time.Second {
		return nil, errors.New("-duration must be at least 1s")
	}
	o.secret = "bench-secret-0123456789abcdef0123456789abcdef"
	return o, nil
}

func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		mult := 1
		if v, ok := strings.CutSuffix(strings.ToLower(f), "k"); ok {
			f, mult = v, 1000
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad number %q", f)
		}
		out = append(out, n*mult)
	}
	return out, nil
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b := &bench{o: o, t0: time.Now()}
	err = b.run(ctx)
	b.cleanup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: FAILED:", err)
		os.Exit(1)
	}
	if len(b.failures) > 0 {
		fmt.Fprintf(os.Stderr, "bench: %d run(s) failed:\n  %s\n", len(b.failures), strings.Join(b.failures, "\n  "))
		os.Exit(1)
	}
}

type bench struct {
	o       *options
	t0      time.Time
	root    string
	tmp     string
	bin     string
	scripts map[string]string
	dbs     []string // full database names, dropped at the end

	ba, goOn, goOff *server
	all             []*server
	sd              *seeder

	rows        []*row
	burstRuns   []*burstRun
	failures    []string
	maxOther    float64 // most cores other processes used during a run
	loadAtStart string
	mu          sync.Mutex
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%5.1fs] %s\n", time.Since(b.t0).Seconds(), fmt.Sprintf(format, args...))
}

func (b *bench) fail(what string) {
	b.mu.Lock()
	b.failures = append(b.failures, what)
	b.mu.Unlock()
	b.logf("FAILED: %s", what)
}

func (b *bench) cleanup() {
	var wg sync.WaitGroup
	for _, s := range b.all {
		wg.Add(1)
		go func() { defer wg.Done(); s.stop() }()
	}
	wg.Wait()
	if b.o.keep {
		if b.tmp != "" {
			b.logf("kept %s and databases %v", b.tmp, b.dbs)
		}
		return
	}
	if len(b.dbs) > 0 {
		dropDatabases(b.o.pgAdmin, b.dbs...)
	}
	if b.tmp != "" {
		os.RemoveAll(b.tmp)
	}
}

// findRoot walks up from the working directory to the module authserver.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module authserver\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run from inside the authserver repository (no go.mod with module authserver above the working directory)")
		}
		dir = parent
	}
}

func (b *bench) preflight() error {
	var err error
	if b.root, err = findRoot(); err != nil {
		return err
	}
	// Only the bursts and the start-up timing send their requests themselves.
	needWrk := false
	for sc := range b.o.scenarios {
		needWrk = needWrk || (sc != "startup" && sc != "burst")
	}
	if _, err := exec.LookPath("wrk"); err != nil && (needWrk || b.o.warmup > 0) {
		return errors.New("wrk is not installed (Debian: apt-get install -y wrk)")
	}
	needNode := b.o.scenarios["get-session"] || b.o.scenarios["sweep"] || b.o.scenarios["mixed"] || b.o.scenarios["sign-in"] || b.o.scenarios["overload"] || b.o.scenarios["feed"] || b.o.scenarios["burst"]
	if needNode {
		if _, err := exec.LookPath(b.o.node); err != nil {
			return fmt.Errorf("%s (Node.js 20) is not installed", b.o.node)
		}
		if _, err := os.Stat(filepath.Join(b.root, "compat", "node_modules", "better-auth", "package.json")); err != nil {
			return errors.New("compat/node_modules is missing: run `cd compat && npm ci`")
		}
	}
	return nil
}

func (b *bench) run(ctx context.Context) error {
	o := b.o
	if err := b.preflight(); err != nil {
		return err
	}
	if raw, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(raw))
		if len(f) >= 3 {
			b.loadAtStart = strings.Join(f[:3], " ")
			if l1, _ := strconv.ParseFloat(f[0], 64); l1 > 1 {
				b.logf("warning: load average %s at start: other work is running, the figures will be disturbed", b.loadAtStart)
			}
		}
	}
	var err error
	if b.tmp, err = os.MkdirTemp("", "authbench-"); err != nil {
		return err
	}
	if b.scripts, err = writeScripts(b.tmp); err != nil {
		return err
	}
	if o.serverBin != "" {
		b.bin = o.serverBin
	} else {
		b.bin = filepath.Join(b.tmp, "server")
		b.logf("building the server: go build -o %s .", b.bin)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", b.bin, ".")
		cmd.Dir = b.root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build: %v\n%s", err, out)
		}
	}

	if o.scenarios["startup"] {
		if err := b.startupSQLite(ctx); err != nil {
			return err
		}
	}
	if len(o.scenarios) == 1 && o.scenarios["startup"] {
		return b.report()
	}

	names, err := createDatabases(ctx, o.pgAdmin, "ba", "go")
	if err != nil {
		return err
	}
	b.dbs = []string{names["ba"], names["go"]}
	baURL, err := pgURL(o.pgAdmin, names["ba"])
	if err != nil {
		return err
	}
	goURL, _ := pgURL(o.pgAdmin, names["go"])

	// The two Go servers share one database (they are one deployment with the cache on or off;
	// the trigger-based invalidation keeps them coherent), started one after the other so their
	// migrations do not race. Better-Auth gets its own database, seeded identically.
	goEnv := func(cache string) map[string]string {
		return map[string]string{"HOST": "127.0.0.1", "DATABASE_URL": goURL, "BETTER_AUTH_SECRET": o.secret,
			"BETTER_AUTH_URL": baseURL, "SESSION_CACHE": cache, "LOG_LEVEL": o.goLogLevel,
			"DATA_DIR": filepath.Join(b.tmp, "data-go-"+cache)}
	}
	b.logf("starting the Go server (SESSION_CACHE=on) on Postgres")
	if b.goOn, err = startServer(ctx, "go-on", "Go, cache on", []string{b.bin}, b.tmp, cleanEnv(goEnv("on")),
		filepath.Join(b.tmp, "go-on.log"), "/readyz", 2*time.Millisecond, 30*time.Second); err != nil {
		return err
	}
	b.all = append(b.all, b.goOn)
	b.logf("starting the Go server (SESSION_CACHE=off)")
	if b.goOff, err = startServer(ctx, "go-off", "Go, cache off", []string{b.bin}, b.tmp, cleanEnv(goEnv("off")),
		filepath.Join(b.tmp, "go-off.log"), "/readyz", 2*time.Millisecond, 30*time.Second); err != nil {
		return err
	}
	b.all = append(b.all, b.goOff)
	b.logf("starting Better-Auth 1.7.25 (node compat/lib/ref-server.mjs, NODE_ENV=production)")
	if b.ba, err = startServer(ctx, "ba", "Better-Auth", []string{o.node, filepath.Join(b.root, "compat", "lib", "ref-server.mjs")},
		filepath.Join(b.root, "compat"), cleanEnv(map[string]string{"DATABASE_URL": baURL, "BETTER_AUTH_SECRET": o.secret,
			"BETTER_AUTH_URL": baseURL, "NODE_ENV": "production"}),
		filepath.Join(b.tmp, "better-auth.log"), "/api/auth/ok", 2*time.Millisecond, 60*time.Second); err != nil {
		return err
	}
	b.all = append(b.all, b.ba)
	servers := []*server{b.ba, b.goOn, b.goOff}

	// Idle memory: every server has been up at least 2 s with no traffic.
	select {
	case <-time.After(2 * time.Second):
	case <-ctx.Done():
		return ctx.Err()
	}
	for _, s := range servers {
		s.idleRSS, _ = procStatus(s.pid(), "VmRSS")
		b.rows = append(b.rows, &row{key: "idle", title: "idle memory, start + 2 s (Postgres)", srv: s, peakRSS: s.idleRSS})
	}
	for _, s := range servers {
		r := &row{key: "ready-pg", title: "start → ready (Postgres, one start)", srv: s, p50: fmtDur(s.startToReady)}
		if s == b.goOff {
			r.targets = []string{"schema already there"}
		} else {
			r.targets = []string{"empty database: creates the schema"}
		}
		b.rows = append(b.rows, r)
	}

	b.logf("signing up %d users on each server (real scrypt hashes)", o.apiUsers)
	// One server after the other: each measures its own hashing speed (the Go server's admission
	// to its hashing line does), which the other's hashing would otherwise distort.
	for _, s := range []*server{b.ba, b.goOn} {
		if err := signUpAll(ctx, s, o.apiUsers); err != nil {
			return err
		}
	}
	b.sd = &seeder{secret: o.secret, apiUsers: o.apiUsers, dbs: []*seedDB{{url: baURL}, {url: goURL}}}
	b.logRSS("after sign-up")

	usersFile := filepath.Join(b.tmp, "users.txt")
	var lastCookies string
	for i, n := range o.sessions {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		b.logf("seeding %d sessions (%d users) into both databases by SQL", n, max(o.apiUsers, n/10))
		if err := b.sd.seedTo(ctx, n); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		if err := b.sd.validate(ctx, servers, n, i == 0); err != nil {
			return fmt.Errorf("seed check: %w", err)
		}
		cookies := filepath.Join(b.tmp, fmt.Sprintf("cookies-%d.txt", n))
		if err := b.sd.writeCookies(cookies, n); err != nil {
			return err
		}
		if err := b.sd.writeUsers(usersFile); err != nil {
			return err
		}
		get := load{mode: "get", path: "/api/auth/get-session", cookies: cookies, conns: o.conns, dur: o.duration}
		b.logRSS("after seeding and checking")
		if i == 0 && o.warmup > 0 {
			for _, s := range servers {
				b.logf("warm-up %s (%s, not measured)", s.label, o.warmup)
				w := get
				w.dur = o.warmup
				if _, err := runWrk(ctx, o, b.scripts, s.url, w); err != nil {
					b.fail(fmt.Sprintf("warm-up %s: %v", s.label, err))
				}
			}
		}
		if i == 0 && o.warmup > 0 {
			b.logRSS("after warm-up")
		}
		if o.scenarios["get-session"] {
			for _, s := range servers {
				b.measure(ctx, "get-session", "get-session (authenticated)", s, get, n)
			}
		}
		if o.scenarios["feed"] {
			b.feed(ctx, cookies, n)
		}
		lastCookies = cookies
		if i == 0 && o.scenarios["sweep"] {
			for _, c := range o.sweepConns {
				if c == o.conns {
					continue
				}
				for _, s := range servers {
					l := get
					l.conns, l.dur = c, o.sweepDuration
					b.measure(ctx, "sweep", "get-session (authenticated)", s, l, n)
				}
			}
		}
	}
	// The scenarios that sign in run last, at the largest session count: every scrypt hash
	// allocates 32 MiB, and memory a process has not yet handed back would otherwise inflate the
	// get-session and feed peaks measured after them.
	n := o.sessions[len(o.sessions)-1]
	if o.scenarios["mixed"] {
		for _, s := range servers {
			b.measure(ctx, "mixed", "mixed workload", s, load{mode: "mixed", cookies: lastCookies, users: usersFile, conns: o.conns, dur: o.duration}, n)
		}
	}
	signIn := load{mode: "signin", users: usersFile, conns: o.signinConns, dur: o.duration}
	if o.scenarios["sign-in"] {
		// Go with the cache off too: its heap holds no cached sessions, which shows what a full
		// cache costs the hashing (the collector works harder with less room under the memory limit).
		for _, s := range servers {
			b.measure(ctx, "sign-in", "sign-in/email", s, signIn, n)
		}
	}
	if o.scenarios["overload"] {
		signIn.conns = o.overloadConns
		for _, s := range []*server{b.ba, b.goOn} {
			b.measure(ctx, "overload", "sign-in/email overload", s, signIn, n)
		}
	}
	if o.scenarios["burst"] {
		b.bursts(ctx)
	}
	if ctx.Err() != nil {
		return ctx.Err() // interrupted: keep the last results file as it was
	}
	// The seeded sessions must still authenticate everywhere after all that load (a server that
	// started answering "null" would have looked fast).
	if len(b.all) > 0 {
		if err := b.sd.validate(ctx, servers, n, false); err != nil {
			b.fail("after the runs: " + err.Error())
		}
	}
	return b.report()
}

// oursCPU is the CPU time used so far by every server this program started and by itself.
func (b *bench) oursCPU() time.Duration {
	sum, _ := procCPU(os.Getpid())
	for _, s := range b.all {
		if s.alive() {
			c, _ := procCPU(s.pid())
			sum += c
		}
	}
	return sum
}

// logRSS logs every server's resident memory, to follow what each stage leaves behind.
func (b *bench) logRSS(stage string) {
	var parts []string
	for _, s := range b.all {
		if s.alive() {
			v, _ := procStatus(s.pid(), "VmRSS")
			parts = append(parts, s.label+" "+fmtMiB(v))
		}
	}
	b.logf("RSS %s: %s", stage, strings.Join(parts, ", "))
}

// cleanEnv gives a server a minimal, reproducible environment: PATH, HOME and the locale, plus
// its own settings, so nothing in the developer's shell (SESSION_CACHE, DATABASE_URL…) leaks in.
func cleanEnv(set map[string]string) map[string]string {
	out := map[string]string{}
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "LANG"} {
		if v, ok := os.LookupEnv(k); ok {
			out[k] = v
		}
	}
	for k, v := range set {
		out[k] = v
	}
	return out
}

// startupSQLite times exec → first 200 on /readyz on an empty SQLite folder, five times, and
// reads the idle RSS of the last one after 2 s.
func (b *bench) startupSQLite(ctx context.Context) error {
	var runs []time.Duration
	var idle int64
	for i := 0; i < 5; i++ {
		dir := filepath.Join(b.tmp, fmt.Sprintf("sqlite-%d", i))
		env := cleanEnv(map[string]string{"HOST": "127.0.0.1", "DATA_DIR": dir, "DATABASE_URL": "sqlite:" + filepath.Join(dir, "app.db"),
			"BETTER_AUTH_SECRET": b.o.secret, "BETTER_AUTH_URL": baseURL, "LOG_LEVEL": b.o.goLogLevel})
		s, err := startServer(ctx, "go-sqlite", "Go (SQLite)", []string{b.bin}, b.tmp, env,
			filepath.Join(b.tmp, fmt.Sprintf("sqlite-%d.log", i)), "/readyz", 500*time.Microsecond, 20*time.Second)
		if err != nil {
			return err
		}
		runs = append(runs, s.startToReady)
		if i == 4 {
			time.Sleep(2 * time.Second)
			idle, _ = procStatus(s.pid(), "VmRSS")
		}
		s.stop()
	}
	sorted := append([]time.Duration(nil), runs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	med := sorted[len(sorted)/2]
	var all []string
	for _, r := range runs {
		all = append(all, fmtDur(r))
	}
	label := &server{key: "go-sqlite", label: "Go (SQLite)"}
	b.rows = append(b.rows,
		&row{key: "ready-sqlite", title: "start → ready (SQLite, empty folder; p50 = median, p99 = max of 5)", srv: label,
			p50: fmtDur(med), p99: fmtDur(sorted[len(sorted)-1]), readyMedian: med, note: strings.Join(all, ", ")},
		&row{key: "idle-sqlite", title: "idle memory, start + 2 s (SQLite)", srv: label, peakRSS: idle})
	b.logf("SQLite start → ready: median %s (%s); idle RSS %s", fmtDur(med), strings.Join(all, ", "), fmtMiB(idle))
	return nil
}

// feed measures /content/feed on the Go servers (Better-Auth has no content API), after one
// probe: a 404 means the content API is not mounted in this build, and the scenario is skipped.
func (b *bench) feed(ctx context.Context, cookies string, n int) {
	client := &http.Client{Timeout: 10 * time.Second}
	status, body, err := doReq(ctx, client, "GET", b.goOn.url+"/content/feed", signCookie(b.o.secret, b.sd.tokens[0]), nil)
	if err != nil || status != 200 {
		var why string
		switch {
		case err != nil:
			why = "not run: probe GET /content/feed failed: " + err.Error()
			b.fail("feed " + why)
		case status == 404:
			why = "skipped: GET /content/feed answers 404 (content API not mounted in this build)"
		default:
			// Anything but 200 or 404 is a broken route, not a missing one.
			why = fmt.Sprintf("not run: probe GET /content/feed answered %d: %.120s", status, body)
			b.fail("feed " + why)
		}
		b.logf("feed: %s", why)
		b.rows = append(b.rows, &row{key: "feed", title: "/content/feed (Go only)", sessions: n, users: b.sd.users,
			conns: b.o.conns, srv: b.goOn, skipped: why})
		return
	}
	l := load{mode: "get", path: "/content/feed", cookies: cookies, conns: b.o.conns, dur: b.o.duration}
	for _, s := range []*server{b.goOn, b.goOff} {
		b.measure(ctx, "feed", "/content/feed (Go only)", s, l, n)
	}
}

// measure runs one load against one server, recording peak RSS and the server's CPU time.
func (b *bench) measure(ctx context.Context, key, title string, s *server, l load, sessions int) *row {
	r := &row{key: key, title: title, sessions: sessions, users: b.sd.users, conns: l.conns, srv: s}
	b.rows = append(b.rows, r)
	if ctx.Err() != nil {
		r.failed = "interrupted"
		return r
	}
	if !s.alive() {
		r.failed = "server not running"
		b.fail(fmt.Sprintf("%s %s: %s", title, s.label, r.failed))
		return r
	}
	mon := watchRSS(s.pid())
	cpu0, _ := procCPU(s.pid())
	m0, t0, ours0 := machineCPU(), time.Now(), b.oursCPU()
	pg0, k0 := bystanderCPU()
	res, err := runWrk(ctx, b.o, b.scripts, s.url, l)
	cpu1, cpuErr := procCPU(s.pid())
	m1, wall, ours1 := machineCPU(), time.Since(t0), b.oursCPU()
	pg1, k1 := bystanderCPU()
	r.peakRSS = mon.peak()
	switch {
	case err != nil:
		r.failed = err.Error()
		b.fail(fmt.Sprintf("%s %s: %v", title, s.label, err))
	case !s.alive():
		r.failed = "the server died during the run"
		b.fail(fmt.Sprintf("%s %s: %s", title, s.label, s.exitText()))
	default:
		r.res = res
		r.okRPS = float64(res.ok()) / res.seconds()
		if n := res.Requests + res.Timeout; n > 0 && cpuErr == nil {
			r.cpuPerReq = (cpu1 - cpu0) / time.Duration(n)
		}
		// What the rest of the machine did meanwhile: all busy CPU minus the servers, this
		// program, wrk, PostgreSQL and kernel threads. More than a small fraction of a core means
		// other work competed with the run.
		r.otherCores = max(0, float64(m1-m0-(ours1-ours0)-res.WrkCPU-(pg1-pg0)-(k1-k0))/float64(wall))
		r.serverCores = float64(cpu1-cpu0) / float64(wall)
		r.pgCores = float64(pg1-pg0) / float64(wall)
		if r.otherCores > b.maxOther {
			b.maxOther = r.otherCores
		}
		b.logf("%-28s %6d sess %4d conns  %-14s %10s ok/s  p50 %9s  p99 %9s  errors %s  peak RSS %s  cores: server %.2f, postgres %.2f, wrk %.2f, other %.2f",
			title, sessions, l.conns, s.label, fmtRPS(r.okRPS), fmtUS(res.P50), fmtUS(res.P99),
			thousands(res.errorCount()), fmtMiB(r.peakRSS), r.serverCores, r.pgCores,
			float64(res.WrkCPU)/float64(wall), r.otherCores)
	}
	// Let sockets close and the database settle before the next run.
	time.Sleep(500 * time.Millisecond)
	return r
}

// fmtDur shows a duration with three significant digits.
func fmtDur(d time.Duration) string { return fmtUS(d.Microseconds()) }

func fmtUS(us int64) string {
	switch {
	case us < 1000:
		return fmt.Sprintf("%d µs", us)
	case us < 10_000:
		return fmt.Sprintf("%.2f ms", float64(us)/1000)
	case us < 1_000_000:
		return fmt.Sprintf("%.1f ms", float64(us)/1000)
	default:
		return fmt.Sprintf("%.2f s", float64(us)/1e6)
	}
}

func fmtMiB(b int64) string {
	if b <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}

func fmtRPS(v float64) string {
	if v < 100 {
		return fmt.Sprintf("%.1f", v)
	}
	return thousands(int64(math.Round(v)))
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
