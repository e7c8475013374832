package session

import "strings"

// parseNextCookie mirrors parse of next/dist/compiled/cookie, the npm
// package cookie 0.4.1 (what a pages-router API route's req.cookies is): the
// header split on the regular expression "; *", a part without "=" skipped,
// name and value trimmed by String.prototype.trim (jsTrim), a value whose
// first character is a double quote cut by value.slice(1, -1) (its first and
// last characters, whatever the last is), and the value %XX-decoded when it
// decodes (else kept as sent).
func parseNextCookie(s string, keep func(string) bool) []cookiePair {
	var out []cookiePair
	for i, part := range strings.Split(s, ";") {
		if i > 0 {
			part = strings.TrimLeft(part, " ")
		}
		eq := strings.IndexByte(part, '=')
		if eq < 0 {
			continue
		}
		name := jsTrim(part[:eq])
		if keep != nil && !keep(name) {
			continue
		}
		val := jsTrim(part[eq+1:])
		if val != "" && val[0] == '"' {
			if len(val) < 2 {
				val = ""
			} else {
				val = val[1 : len(val)-1]
			}
		}
		out = append(out, cookiePair{name: name, value: tryDecodeURIComponent(val)})
	}
	return out
}

// jsTrim is String.prototype.trim on a header as Node decodes it (latin1, a
// byte per character): the white space and line terminators among those
// characters are tab, LF, VT, FF, CR, space and U+00A0 (byte 0xA0).
func jsTrim(s string) string {
	isSpace := func(c byte) bool { return c == ' ' || c == 0xa0 || ('\t' <= c && c <= '\r') }
	for s != "" && isSpace(s[0]) {
		s = s[1:]
	}
	for s != "" && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// parseCookie1 mirrors @auth/core 0.41's vendored cookie parse (cookie 1.x):
// pairs split at ";", a pair without "=" skipped (the scan backs up to the
// last ";" before the next "="), name and value trimmed of spaces and tabs,
// quotes kept, and the value %XX-decoded when it holds a "%" and decodes
// (else kept as sent).
func parseCookie1(s string, keep func(string) bool) []cookiePair {
	var out []cookiePair
	n := len(s)
	if n < 2 {
		return nil
	}
	index := 0
	for index < n {
		eq := indexFrom(s, "=", index)
		if eq == -1 {
			break
		}
		end := indexFrom(s, ";", index)
		if end == -1 {
			end = n
		} else if eq > end {
			// backtrack on the last ";" before the "="
			index = strings.LastIndex(s[:eq], ";") + 1
			continue
		}
		ks := skipOWS(s, index, eq)
		ke := trimOWSEnd(s, eq, ks)
		if keep != nil && !keep(s[ks:ke]) {
			index = end + 1
			continue
		}
		vs := skipOWS(s, eq+1, end)
		ve := trimOWSEnd(s, end, vs)
		val := ""
		if vs < ve {
			val = s[vs:ve]
		}
		out = append(out, cookiePair{name: s[ks:ke], value: tryDecodeURIComponent(val)})
		index = end + 1
	}
	return out
}

func indexFrom(s, sub string, from int) int {
	if from > len(s) {
		return -1
	}
	i := strings.Index(s[from:], sub)
	if i < 0 {
		return -1
	}
	return from + i
}

// skipOWS is cookie's startIndex: the first index in [i, max) that is not a
// space or tab, else max.
func skipOWS(s string, i, limit int) int {
	for ; i < limit; i++ {
		if s[i] != ' ' && s[i] != '\t' {
			return i
		}
	}
	return limit
}

// trimOWSEnd is cookie's endIndex: the end of s[min:i] without trailing
// spaces and tabs.
func trimOWSEnd(s string, i, limit int) int {
	for i > limit {
		if s[i-1] != ' ' && s[i-1] != '\t' {
			return i
		}
		i--
	}
	return limit
}

// parseEdgeCookies mirrors parseCookie of @edge-runtime/cookies 6.0.0 (what
// next/headers' cookies() reads): the header split on the regular expression
// "; *", empty parts skipped, a part without "=" taken as a cookie of that
// name with the value "true", the name and value not trimmed nor unquoted,
// the value passed through decodeURIComponent and the pair dropped when that
// throws.
func parseEdgeCookies(s string, keep func(string) bool) []cookiePair {
	var out []cookiePair
	for i, part := range strings.Split(s, ";") {
		if i > 0 {
			part = strings.TrimLeft(part, " ")
		}
		if part == "" {
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		if keep != nil && !keep(name) {
			continue
		}
		if !ok {
			out = append(out, cookiePair{name: part, value: "true"})
			continue
		}
		d, ok := decodeURIComponent(value)
		if !ok {
			continue
		}
		out = append(out, cookiePair{name: name, value: d})
	}
	return out
}
