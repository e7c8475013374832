package loadrig

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Tree returns pid and its descendants, read from /proc/<n>/stat (field 4,
// the parent's pid). A server such as `next start` forks workers, so its
// cost is that of the whole tree. Processes that end while /proc is read
// are skipped. Linux only.
func Tree(pid int) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list /proc: %w", err)
	}
	children := map[int][]int{}
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, err := parentPID(n); err == nil {
			children[ppid] = append(children[ppid], n)
		}
	}
	tree := []int{pid}
	for i := 0; i < len(tree); i++ {
		tree = append(tree, children[tree[i]]...)
	}
	return tree, nil
}

// statFields are the fields of /proc/<pid>/stat after the command name
// (which may hold spaces and parentheses): fields[0] is the state (field 3
// of proc(5)), fields[1] the parent's pid, fields[11] utime, fields[12]
// stime.
func statFields(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, fmt.Errorf("read /proc/%d/stat: %w", pid, err)
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 > len(s) {
		return nil, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(s[i+2:])
	if len(f) < 13 {
		return nil, fmt.Errorf("/proc/%d/stat: %d fields after the command name, want at least 13", pid, len(f))
	}
	return f, nil
}

func parentPID(pid int) (int, error) {
	f, err := statFields(pid)
	if err != nil {
		return 0, err
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: parent pid: %w", pid, err)
	}
	return ppid, nil
}

// TreeCPUTime is the user+system CPU time of pid and its live descendants
// (Tree, CPUTime): the server's CPU, whatever number of processes it runs.
func TreeCPUTime(pid int) (time.Duration, error) {
	return sumTree(pid, CPUTime)
}

// TreePeakRSS is the sum of the peak resident sets (VmHWM, PeakRSS) of pid
// and its live descendants, in bytes: an upper bound of the tree's peak, as
// each process may have peaked at another moment (exact for one process).
func TreePeakRSS(pid int) (int64, error) {
	return sumTree(pid, PeakRSS)
}

func sumTree[T time.Duration | int64](pid int, of func(int) (T, error)) (T, error) {
	var sum T
	tree, err := Tree(pid)
	if err != nil {
		return 0, err
	}
	for i, p := range tree {
		v, err := of(p)
		if err != nil {
			if i > 0 && errors.Is(err, os.ErrNotExist) {
				continue // a child that ended meanwhile
			}
			return 0, err
		}
		sum += v
	}
	return sum, nil
}
