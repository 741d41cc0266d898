package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// server is one running server process under test.
type server struct {
	key     string // "ba", "go-on", "go-off"
	label   string // shown in the table
	url     string // http://127.0.0.1:<port>
	logPath string

	cmd    *exec.Cmd
	exited chan struct{}
	waitMu sync.Mutex
	err    error

	startToReady time.Duration // exec to first 200 on the ready path
	idleRSS      int64         // VmRSS after start + 2 s idle, bytes
}

func (s *server) isGo() bool { return strings.HasPrefix(s.key, "go") }

func (s *server) pid() int { return s.cmd.Process.Pid }

func (s *server) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// exitText describes how the process ended, with the tail of its log.
func (s *server) exitText() string {
	s.waitMu.Lock()
	err := s.err
	s.waitMu.Unlock()
	return fmt.Sprintf("%s exited (%v); last log lines:\n%s", s.label, err, tail(s.logPath, 15))
}

// stop sends SIGTERM and waits up to 5 s before killing the process.
func (s *server) stop() {
	if s == nil || s.cmd == nil || s.cmd.Process == nil || !s.alive() {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// freePort asks the kernel for an unused port on the loopback interface.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// mergeEnv returns the current environment with the given variables set (and NODE_OPTIONS
// removed, so a developer's shell settings do not change the reference server).
func mergeEnv(set map[string]string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := set[k]; ok || k == "NODE_OPTIONS" {
			continue
		}
		out = append(out, kv)
	}
	for k, v := range set {
		out = append(out, k+"="+v)
	}
	return out
}

// startServer execs argv with env (PORT is added) and waits until GET readyPath answers 200,
// polling every pollEvery. The time from exec to that answer is startToReady.
func startServer(ctx context.Context, key, label string, argv []string, dir string, env map[string]string,
	logPath, readyPath string, pollEvery, timeout time.Duration) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	env["PORT"] = strconv.Itoa(port)
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = mergeEnv(env)
	cmd.Stdout = f
	cmd.Stderr = f
	// The servers die with the benchmark even if it is killed without a chance to clean up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	s := &server{key: key, label: label, url: fmt.Sprintf("http://127.0.0.1:%d", port), logPath: logPath,
		cmd: cmd, exited: make(chan struct{})}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", label, err)
	}
	go func() {
		err := cmd.Wait()
		s.waitMu.Lock()
		s.err = err
		s.waitMu.Unlock()
		f.Close()
		close(s.exited)
	}()
	client := &http.Client{Timeout: time.Second}
	deadline := t0.Add(timeout)
	for {
		if !s.alive() {
			return nil, errors.New(s.exitText())
		}
		if ctx.Err() != nil {
			s.stop()
			return nil, ctx.Err()
		}
		resp, err := client.Get(s.url + readyPath)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				s.startToReady = time.Since(t0)
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("%s not ready after %s; last log lines:\n%s", label, timeout, tail(logPath, 15))
		}
		time.Sleep(pollEvery)
	}
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// procStatus reads one "kB" field of /proc/<pid>/status (VmRSS, VmHWM) in bytes.
func procStatus(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			fields := strings.Fields(rest)
			if len(fields) == 0 {
				break
			}
			kb, err := strconv.ParseInt(fields[0], 10, 64)
			if err != nil {
				return 0, err
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no %s", pid, field)
}

// procCPU is the process's user+system CPU time so far (from /proc/<pid>/stat, in clock ticks
// of 1/100 s, the value of USER_HZ on every Linux we run on).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("bad /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	// After the command name: state is field 3 of proc(5), utime 14 and stime 15.
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("bad /proc stat numbers")
	}
	return time.Duration(ut+st) * 10 * time.Millisecond, nil
}

// rssMonitor records a process's peak resident memory during one run. It resets the kernel's
// high-water mark (VmHWM) at the start by writing 5 to /proc/<pid>/clear_refs, polls VmRSS
// every 50 ms meanwhile, and at the end takes the larger of the polled maximum and VmHWM (which
// also catches spikes between polls).
type rssMonitor struct {
	pid      int
	hwmReset bool
	stop     chan struct{}
	done     chan struct{}
	max      int64
}

func watchRSS(pid int) *rssMonitor {
	m := &rssMonitor{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	m.hwmReset = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
	go func() {
		defer close(m.done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if v, err := procStatus(pid, "VmRSS"); err == nil && v > m.max {
				m.max = v
			}
			select {
			case <-m.stop:
				return
			case <-t.C:
			}
		}
	}()
	return m
}

// peak stops the monitor and returns the peak RSS in bytes.
func (m *rssMonitor) peak() int64 {
	close(m.stop)
	<-m.done
	if m.hwmReset {
		if v, err := procStatus(m.pid, "VmHWM"); err == nil && v > m.max {
			m.max = v
		}
	}
	return m.max
}

// machineCPU is the busy CPU time of the whole machine so far (all cores), from /proc/stat:
// user, nice, system and steal. Interrupt and softirq time are left out: loopback networking
// runs there on behalf of whichever process sent the packets, so it belongs to the run.
func machineCPU() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var ticks int64
	// user nice system idle iowait irq softirq steal
	for _, i := range []int{1, 2, 3, 8} {
		n, _ := strconv.ParseInt(f[i], 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// bystanderCPU is the CPU time used so far by the PostgreSQL processes (server and backends)
// and by kernel threads (which do the run's network and memory work).
func bystanderCPU() (postgres, kernel time.Duration) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, 0
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		i := bytes.IndexByte(b, '(')
		j := bytes.LastIndexByte(b, ')')
		if i < 0 || j < i {
			continue
		}
		comm := string(b[i+1 : j])
		f := strings.Fields(string(b[j+1:]))
		if len(f) < 13 {
			continue
		}
		flags, _ := strconv.ParseUint(f[6], 10, 64)
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		cpu := time.Duration(ut+st) * 10 * time.Millisecond
		switch {
		case flags&0x00200000 != 0: // PF_KTHREAD
			kernel += cpu
		case comm == "postgres":
			postgres += cpu
		}
	}
	return postgres, kernel
}
