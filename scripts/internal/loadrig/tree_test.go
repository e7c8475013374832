package loadrig

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestStartGroup: a server whose socket a child holds (as `next start`'s)
// is found through the process tree, its tree's CPU and peak RSS include
// the child, and Stop ends the whole group.
func TestStartGroup(t *testing.T) {
	cmd := exec.CommandContext(context.Background(), "sh", "-c", `"$0" & wait`, os.Args[0]) //nolint:gosec // G204: this test binary itself
	cmd.Env = append(os.Environ(), "LOADRIG_TEST_SERVER=quiet")
	srv, err := StartGroup(cmd, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			srv.Stop()
		}
	}()
	tree, err := Tree(cmd.Process.Pid)
	if err != nil || len(tree) != 2 {
		t.Fatalf("Tree = %v, %v; want the shell and its child", tree, err)
	}
	child := tree[1]
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+srv.Addr+"/", nil)
	resp, err := OneShot.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	_, err = fmt.Fscan(resp.Body, &pid)
	_ = resp.Body.Close()
	if err != nil || pid != child {
		t.Errorf("%s answered from %d (%v), want the child %d", srv.Addr, pid, err, child)
	}
	rssChild, err1 := PeakRSS(child)
	rssTree, err2 := TreePeakRSS(cmd.Process.Pid)
	if err1 != nil || err2 != nil || rssTree <= rssChild {
		t.Errorf("TreePeakRSS = %d (%v), the child's alone %d (%v)", rssTree, err2, rssChild, err1)
	}
	cpuChild, err1 := CPUTime(child)
	cpuTree, err2 := TreeCPUTime(cmd.Process.Pid)
	if err1 != nil || err2 != nil || cpuTree < cpuChild {
		t.Errorf("TreeCPUTime = %s (%v), the child's alone %s (%v)", cpuTree, err2, cpuChild, err1)
	}
	srv.Stop()
	stopped = true
	// The orphaned child is reaped by whoever adopted it: a zombie (Z) has ended.
	deadline := time.Now().Add(5 * time.Second)
	for {
		f, err := statFields(child)
		if err != nil || f[0] == "Z" {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("the child %d outlived Stop (state %s)", child, f[0])
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWaitIdle: a connection the server holds keeps WaitIdle waiting; once
// the client closes it and the server closes its end, WaitIdle returns.
func TestWaitIdle(t *testing.T) {
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	port := ln.Addr().(*net.TCPAddr).Port
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	client, err := (&net.Dialer{}).DialContext(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server := <-accepted
	if n, err := OpenConns(os.Getpid(), port); err != nil || n != 1 {
		// The client's end is this process's too, but its local port is not port.
		t.Errorf("OpenConns = %d, %v; want 1", n, err)
	}
	if err := WaitIdle(os.Getpid(), port, 100*time.Millisecond); err == nil {
		t.Error("WaitIdle returned while the server held an open connection")
	}
	_ = client.Close()
	time.Sleep(50 * time.Millisecond)
	if n, _ := OpenConns(os.Getpid(), port); n != 1 {
		t.Errorf("after the client closed: OpenConns = %d, want 1 (CLOSE_WAIT: the server has not closed)", n)
	}
	_ = server.Close()
	if err := WaitIdle(os.Getpid(), port, 5*time.Second); err != nil {
		t.Error(err)
	}
}

func TestOpenRows(t *testing.T) {
	// Rows of a real /proc/net/tcp: a listener (0A), an established
	// connection of ours, one in CLOSE_WAIT, one in TIME_WAIT (06, inode 0),
	// and an established one of another process (inode not ours).
	table := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:9C41 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1 0000000000000000 100 0 0 10 0
   1: 0100007F:9C41 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 1002 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:9C41 0100007F:D432 08 00000000:00000000 00:00000000 00000000     0        0 1003 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:9C41 0100007F:D433 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000
   4: 0100007F:9C41 0100007F:D434 01 00000000:00000000 00:00000000 00000000     0        0 2002 1 0000000000000000 20 4 30 10 -1
   5: 0100007F:D431 0100007F:9C41 01 00000000:00000000 00:00000000 00000000     0        0 1004 1 0000000000000000 20 4 30 10 -1
`
	ours := map[string]bool{"1001": true, "1002": true, "1003": true, "1004": true}
	if n := openRows(table, 0x9C41, ours); n != 2 {
		t.Errorf("openRows = %d, want 2 (established and close-wait on port 0x9C41)", n)
	}
	if n := openRows(table, 1, ours); n != 0 {
		t.Errorf("openRows on another port = %d", n)
	}
}

func TestParseAnswered(t *testing.T) {
	text := `# HELP routeapi_http_requests_total HTTP requests by route, method and status.
# TYPE routeapi_http_requests_total counter
routeapi_http_requests_total{method="GET",route="/metrics",status="200"} 3
routeapi_http_requests_total{method="POST",route="/api/events",status="200"} 7
routeapi_http_requests_total{method="POST",route="/api/route",status="200"} 12345
routeapi_http_requests_total{method="POST",route="/api/route",status="202"} 5
routeapi_http_requests_total{method="POST",route="/api/route",status="401"} 2
# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 12
`
	a, err := parseAnswered(strings.NewReader(text), "/api/route", "POST")
	if err != nil {
		t.Fatal(err)
	}
	if a.OK() != 12350 || a[401] != 2 || len(a) != 3 {
		t.Errorf("Answered = %v", a)
	}
	if d := a.Sub(Answered{200: 12000, 202: 5}); d.OK() != 345 || d[401] != 2 || len(d) != 2 {
		t.Errorf("Sub = %v", d)
	}
	if a, err := parseAnswered(strings.NewReader("go_goroutines 12\n"), "/api/route", "POST"); err != nil || len(a) != 0 {
		t.Errorf("no counter yet: %v, %v", a, err)
	}
	if _, err := parseAnswered(strings.NewReader(`routeapi_http_requests_total{route="/api/route",method="POST",status="x"} 1`+"\n"), "/api/route", "POST"); err == nil {
		t.Error("no error for a status that is not a number")
	}
}

// TestTree: this process's tree holds a child it started, and not its
// parent.
func TestTree(t *testing.T) {
	cmd := exec.CommandContext(context.Background(), "sleep", "5")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	tree, err := Tree(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	has := map[int]bool{}
	for _, p := range tree {
		has[p] = true
	}
	if tree[0] != os.Getpid() || !has[cmd.Process.Pid] || has[os.Getppid()] {
		t.Errorf("Tree(%d) = %v; child %d, parent %d", os.Getpid(), tree, cmd.Process.Pid, os.Getppid())
	}
	if _, err := parentPID(1 << 30); err == nil {
		t.Error("no error for a process that does not exist")
	}
}
