package session

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// SessionStore (next-auth 4.24 src/core/lib/cookie.ts, @auth/core 0.41
// src/lib/utils/cookie.ts) joins the cookies whose names start with the
// session cookie name in the order of
//
//	Object.keys(chunks).sort((a, b) =>
//	  parseInt(a.split(".").pop() ?? "0") - parseInt(b.split(".").pop() ?? "0"))
//
// (@auth/core writes `|| "0"`, so an empty last part is 0 there and NaN in
// next-auth v4), where Object.keys is the order in which the reader first
// met each name. So ".00", ".+1", ".1e1", ".0x1" and ".a.2" name chunks too,
// and a name whose last part is no number (the plain name) compares equal to
// every other: Array.prototype.sort turns a NaN comparison into 0 (ECMA-262
// SortCompare), which makes the order the sort algorithm's. Node's V8 sorts
// with TimSort, which for fewer than 64 keys is one run count followed by a
// binary insertion sort (v8 third_party/v8/builtins/array-sort.tq); jsSort
// replays it.

// jsSortMax is the number of keys up to which jsSort replays V8's sort
// exactly (TimSort's minimum run is the whole array below 64).
const jsSortMax = 63

// chunkKey is SessionStore's sort key of cookie name n:
// parseInt(n.split(".").pop() ?? "0") in next-auth v4, with `|| "0"` in
// @auth/core (v5 true).
func chunkKey(n string, v5 bool) float64 {
	last := n[strings.LastIndexByte(n, '.')+1:]
	if last == "" && v5 {
		return 0
	}
	return jsParseInt(last)
}

// jsParseInt is JavaScript's parseInt(s) without a radix: leading white
// space skipped, an optional sign, "0x"/"0X" for hexadecimal, then the
// longest run of digits; NaN when there is none. s is a header's bytes as
// Node decodes them (latin1), so byte 0xA0 is U+00A0, which is white space.
func jsParseInt(s string) float64 {
	i := 0
	for i < len(s) && isJSSpace(s[i]) {
		i++
	}
	sign := 1.0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		if s[i] == '-' {
			sign = -1
		}
		i++
	}
	base := 10.0
	if i+1 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') {
		base = 16
		i += 2
	}
	v, digits := 0.0, 0
	for ; i < len(s); i++ {
		d := digitValue(s[i])
		if d < 0 || float64(d) >= base {
			break
		}
		v = v*base + float64(d)
		digits++
	}
	if digits == 0 {
		return math.NaN()
	}
	return sign * v
}

func isJSSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\v', '\f', '\r', 0xA0:
		return true
	}
	return false
}

func digitValue(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// jsCompare is the sign of SessionStore's comparator, a NaN difference
// being 0 as SortCompare makes it.
func jsCompare(a, b float64) int {
	d := a - b
	switch {
	case d < 0:
		return -1
	case d > 0:
		return 1
	}
	return 0 // equal, or NaN
}

// jsSort sorts names (at most jsSortMax) by keys as V8's Array.prototype.sort
// does with SessionStore's comparator: ArrayTimSort with a minimum run of
// the whole array, i.e. CountAndMakeRun (a strictly descending first run is
// reversed) and BinaryInsertionSort of the rest. The comparator need not be
// consistent (NaN keys), so the algorithm, not only the keys, decides.
//
// Above jsSortMax keys V8 merges runs; the result is then only known when
// no key is NaN (a consistent comparator: every stable sort agrees), and
// jsSort refuses the rest with ErrMalformed.
func jsSort(names []string, keys []float64) error {
	n := len(names)
	if n < 2 {
		return nil
	}
	if n > jsSortMax {
		return sortConsistent(names, keys)
	}
	run := countAndMakeRun(names, keys)
	binaryInsertionSort(names, keys, run)
	return nil
}

// sortConsistent sorts more than jsSortMax names by keys when no key is NaN
// (every stable sort then agrees with V8's), and refuses them otherwise.
func sortConsistent(names []string, keys []float64) error {
	n := len(names)
	for _, k := range keys {
		if math.IsNaN(k) {
			return fmt.Errorf("%d cookies named like the session cookie, some not chunks: %w", n, ErrMalformed)
		}
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return keys[idx[a]] < keys[idx[b]] })
	sorted := make([]string, n)
	for i, k := range idx {
		sorted[i] = names[k]
	}
	copy(names, sorted)
	return nil
}

// countAndMakeRun is V8's CountAndMakeRun(0, n) on at least two keys: the
// length of the run at the start, which is reversed in place (names with
// keys) when it is strictly descending.
func countAndMakeRun(names []string, keys []float64) int {
	n := len(names)
	run := 2
	descending := jsCompare(keys[1], keys[0]) < 0
	for i := 2; i < n; i++ {
		o := jsCompare(keys[i], keys[i-1])
		if descending && o >= 0 || !descending && o < 0 {
			break
		}
		run++
	}
	if descending {
		for i, j := 0, run-1; i < j; i, j = i+1, j-1 {
			names[i], names[j] = names[j], names[i]
			keys[i], keys[j] = keys[j], keys[i]
		}
	}
	return run
}

// binaryInsertionSort is V8's BinaryInsertionSort(0, run, n): each name
// after the sorted run is inserted (with its key) after the last key it
// does not compare below.
func binaryInsertionSort(names []string, keys []float64, run int) {
	for start := run; start < len(names); start++ {
		pn, pk := names[start], keys[start]
		left, right := 0, start
		for left < right {
			mid := left + (right-left)>>1
			if jsCompare(pk, keys[mid]) < 0 {
				right = mid
			} else {
				left = mid + 1
			}
		}
		copy(names[left+1:start+1], names[left:start])
		copy(keys[left+1:start+1], keys[left:start])
		names[left], keys[left] = pn, pk
	}
}
