package session

import (
	"net/http"
	"slices"
	"strings"
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

// jar is a reader's view of the cookies: one value per name, names in the
// order they first appear (a JavaScript object's or Map's key order). A
// jar holds the session cookies only (the reader's keep), a handful at
// most: names are found by a linear search until there are more than
// jarLinear of them, then through an index, so a header of many cookies
// costs no more than a map would.
type jar struct {
	pairs []cookiePair   // one per name, with the value the duplicate rule keeps
	index map[string]int // name -> position in pairs; nil while len(pairs) <= jarLinear
}

// jarLinear is the most names a jar searches one by one.
const jarLinear = 8

// read applies rd's parser (with keep) and duplicate rule to header. The
// jar's pairs reuse the parsed pairs' array (each kept pair moves to or
// before its own position).
func (rd reader) read(header string, keep func(string) bool) jar {
	parsed := rd.parse(header, keep)
	j := jar{pairs: parsed[:0]}
	for _, p := range parsed {
		if i, seen := j.find(p.name); seen {
			if rd.keepLast {
				j.pairs[i].value = p.value
			}
			continue
		}
		j.pairs = append(j.pairs, p)
		switch {
		case j.index != nil:
			j.index[p.name] = len(j.pairs) - 1
		case len(j.pairs) > jarLinear:
			j.index = make(map[string]int, 2*len(j.pairs))
			for i, q := range j.pairs {
				j.index[q.name] = i
			}
		}
	}
	return j
}

// find returns the position of name in j.pairs.
func (j jar) find(name string) (int, bool) {
	if j.index != nil {
		i, ok := j.index[name]
		return i, ok
	}
	for i := range j.pairs {
		if j.pairs[i].name == name {
			return i, true
		}
	}
	return 0, false
}

// value is the value of name ("" when j has no such cookie).
func (j jar) value(name string) string {
	if i, ok := j.find(name); ok {
		return j.pairs[i].value
	}
	return ""
}

// equal reports whether j and o hold the same cookies in the same order.
func (j jar) equal(o jar) bool {
	return slices.Equal(j.pairs, o.pairs)
}
