package session

import (
	"fmt"
	"strings"
)

// checkDuplicates refuses pairs (a Cookie header split with its values kept
// as sent, %XX decoded) that carry one session cookie name (a name starting
// with name) twice with different values: after a cookie-domain change a
// browser sends a host-only and a Domain= cookie side by side, the pages
// router and Auth.js keep the first and the App Router the last, so who is
// signed in depends on the reader. The same value twice is not ambiguous.
func checkDuplicates(all []cookiePair, name string) error {
	seen := map[string]string{}
	for _, p := range all {
		if !strings.HasPrefix(p.name, name) {
			continue
		}
		if v, dup := seen[p.name]; dup && v != p.value {
			return fmt.Errorf("cookie %s sent twice with different values: %w", logName(p.name), ErrAmbiguous)
		}
		seen[p.name] = p.value
	}
	return nil
}

// storeValue is next-auth's SessionStore value for the cookie name: every
// cookie of j whose name starts with name, joined in SessionStore's order
// (chunkorder.go: by parseInt of the name's last "."-separated part, in V8's
// sort). Cookies with empty values add nothing (Auth.js skips them; next-auth
// v4 keeps them, and they take part in its sort). found is whether any
// cookie has a value: only then does getToken not read a bearer token. A
// join that is no token fails to decode later, as it does in next-auth.
func storeValue(j jar, name string) (string, bool, error) {
	v5 := isV5Cookie(name)
	keys, values := storeKeys(j, name, v5)
	switch values {
	case 0:
		return "", false, nil
	case 1:
		return singleValue(j, keys)
	}
	return joinChunks(j, keys, values, v5)
}

// storeKeys lists the names of j that SessionStore keeps under name, in j's
// order, and counts those with a value. v5 (Auth.js) drops empty cookies;
// v4 keeps them.
func storeKeys(j jar, name string, v5 bool) (keys []string, values int) {
	for _, p := range j.pairs {
		n := p.name
		if !strings.HasPrefix(n, name) {
			continue
		}
		if p.value != "" {
			values++
		} else if v5 {
			continue
		}
		keys = append(keys, n)
	}
	return keys, values
}

// singleValue is the one non-empty value among keys: the token, whatever
// its name's suffix.
func singleValue(j jar, keys []string) (string, bool, error) {
	for _, n := range keys {
		if v := j.value(n); v != "" {
			if len(v) > maxTokenBytes {
				return "", true, fmt.Errorf("token too large: %w", ErrMalformed)
			}
			return v, true, nil
		}
	}
	return "", false, nil // not reached: storeKeys counted one value
}

// joinChunks joins the values of keys (values of them non-empty) in
// SessionStore's order, within the chunk and size limits.
func joinChunks(j jar, keys []string, values int, v5 bool) (string, bool, error) {
	if values > maxChunks || len(keys) > 4*maxChunks {
		return "", true, fmt.Errorf("more than %d chunks: %w", maxChunks, ErrMalformed)
	}
	order := make([]float64, len(keys))
	n := 0
	for i, k := range keys {
		order[i] = chunkKey(k, v5)
		n += len(j.value(k))
	}
	if n > maxTokenBytes {
		return "", true, fmt.Errorf("token too large: %w", ErrMalformed)
	}
	if err := jsSort(keys, order); err != nil {
		return "", true, err
	}
	var b strings.Builder
	b.Grow(n)
	for _, k := range keys {
		b.WriteString(j.value(k))
	}
	return b.String(), true, nil
}
