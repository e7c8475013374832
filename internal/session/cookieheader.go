package session

import (
	"net/http"
	"strings"
	"unicode/utf8"
)

// A Next.js app does not read a Cookie header one way: next-auth v4 in the
// pages router gets req.cookies from Next.js's next/dist/compiled/cookie
// (server/api-utils/get-cookie-parser.js; a copy of the npm package cookie
// 0.4.1: the first of duplicate names, JavaScript's trim, a value that starts
// with a quote loses its first and last character, %XX decoded when it can
// be); next-auth v4 in the App Router gets them from next/headers, which is
// @edge-runtime/cookies' RequestCookies (the last of duplicate names, split
// on "; *" only, nothing stripped, a value whose %XX does not decode is
// dropped); Auth.js v5 (@auth/core's getToken and its session reading) parses
// with its vendored copy of cookie 1.x (the first of duplicate names, quotes
// kept). The parsers below mirror each of them on the header as Node hands it
// to the app: every Cookie line joined with "; " (Node's http does that).
//
// Every parser returns the pairs in header order with duplicates kept; the
// reading a library makes of them is reduce with its duplicate rule.

// cookiePair is one name=value pair of a Cookie header, its value decoded as
// the parser that produced it decodes values.
type cookiePair struct{ name, value string }

// cookieParser turns a (joined) Cookie header into its pairs, in order,
// keeping only the pairs whose name keep accepts (nil keeps all); the others
// are skipped before their values are decoded.
type cookieParser func(header string, keep func(name string) bool) []cookiePair

// readers are the ways a Next.js app reads cookies, each a parser and a
// duplicate rule (keepLast: the last pair of a name wins, else the first).
type reader struct {
	name     string
	parse    cookieParser
	keepLast bool
}

var (
	// pagesRouter is next-auth v4 under the pages router (req.cookies: Next.js's compiled cookie 0.4.1).
	pagesRouter = reader{name: "pages router (next/dist/compiled/cookie)", parse: parseNextCookie}
	// appRouter is next-auth v4 under the App Router (next/headers: @edge-runtime/cookies).
	appRouter = reader{name: "App Router (@edge-runtime/cookies)", parse: parseEdgeCookies, keepLast: true}
	// authjs is Auth.js v5 (@auth/core's vendored cookie 1.x).
	authjs = reader{name: "Auth.js (@auth/core cookie)", parse: parseCookie1}
)

// cookieHeader is every Cookie line of r, without the optional whitespace
// around it (RFC 9110 §5.5: not part of the value; Node's and Go's parsers
// drop it, and so does the Fetch Headers next/headers builds), joined with
// "; " as Node's http joins repeated Cookie headers before an app sees them.
func cookieHeader(r *http.Request) string {
	lines := r.Header.Values("Cookie")
	if len(lines) == 1 {
		return strings.Trim(lines[0], " \t")
	}
	trimmed := make([]string, len(lines))
	for i, l := range lines {
		trimmed[i] = strings.Trim(l, " \t")
	}
	return strings.Join(trimmed, "; ")
}

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

// tryDecodeURIComponent is cookie's decode: JavaScript's decodeURIComponent
// when s holds a "%", s itself when that throws.
func tryDecodeURIComponent(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	if d, ok := decodeURIComponent(s); ok {
		return d
	}
	return s
}

// decodeURIComponent is JavaScript's decodeURIComponent on a header as Node
// decodes it (latin1, a byte per character): every other byte is kept, each
// %XX escape decoded, and false where JavaScript throws: a bad escape, or
// escapes that are not one UTF-8 sequence of a code point (ECMA-262 Decode:
// a stray continuation byte, a short sequence, an overlong form, a
// surrogate). A byte of 0x80 or above outside an escape is a character of
// its own to JavaScript (U+0080 to U+00FF), never an error.
func decodeURIComponent(s string) (string, bool) {
	if !strings.Contains(s, "%") {
		return s, true
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if s[i] != '%' {
			b.WriteByte(s[i])
			i++
			continue
		}
		c, ok := escapedByte(s, i)
		if !ok {
			return "", false
		}
		i += 3
		n := 1
		switch {
		case c < 0x80:
		case c&0xe0 == 0xc0:
			n = 2
		case c&0xf0 == 0xe0:
			n = 3
		case c&0xf8 == 0xf0:
			n = 4
		default:
			return "", false
		}
		seq := []byte{c}
		for k := 1; k < n; k++ {
			c, ok := escapedByte(s, i)
			if !ok || c&0xc0 != 0x80 {
				return "", false
			}
			seq = append(seq, c)
			i += 3
		}
		if !utf8.Valid(seq) {
			return "", false
		}
		b.Write(seq)
	}
	return b.String(), true
}

// escapedByte is the byte of the escape "%XX" at s[i:], if it is one.
func escapedByte(s string, i int) (byte, bool) {
	if i+2 >= len(s) || s[i] != '%' {
		return 0, false
	}
	h, ok1 := unhex(s[i+1])
	l, ok2 := unhex(s[i+2])
	return h<<4 | l, ok1 && ok2
}

// unhex is the value of the hexadecimal digit c.
func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
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

// jar is a reader's view of the cookies: one value per name, names in the
// order they first appear (a JavaScript object's or Map's key order).
type jar struct {
	names  []string
	values map[string]string
}

// read applies rd's parser (with keep) and duplicate rule to header.
func (rd reader) read(header string, keep func(string) bool) jar {
	j := jar{values: map[string]string{}}
	for _, p := range rd.parse(header, keep) {
		if _, seen := j.values[p.name]; seen {
			if rd.keepLast {
				j.values[p.name] = p.value
			}
			continue
		}
		j.names = append(j.names, p.name)
		j.values[p.name] = p.value
	}
	return j
}

// equal reports whether j and o hold the same cookies in the same order.
func (j jar) equal(o jar) bool {
	if len(j.names) != len(o.names) {
		return false
	}
	for i, n := range j.names {
		if o.names[i] != n || o.values[n] != j.values[n] {
			return false
		}
	}
	return true
}
