package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/session"
	"github.com/routeapi/routeapi/internal/testkit/nextauthmint"
	"github.com/routeapi/routeapi/internal/user"
)

// The differential test (testdata/sessions/README.md): for every header set
// of testdata/sessions/corpus.json, routeapi's verdict (the user id it
// publishes as, or 401) equals what the real next-auth 4.24.15 and
// @auth/core 0.41.3 getToken make of the same headers, except the
// divergences the README's "Divergences from next-auth" section lists, each
// of which is modelled here by name.

type diffCorpus struct {
	Now      int64  `json:"now"`
	V4Secret string `json:"v4Secret"`
	V5Secret string `json:"v5Secret"`
	// Tokens are the minted tokens (and their chunks) the entries name as {key}.
	Tokens  map[string]string `json:"tokens"`
	Entries []diffEntry       `json:"entries"`
}

var tokenRef = regexp.MustCompile(`\{([A-Za-z0-9.]+)\}`)

// expand replaces every {key} in s with the corpus token of that name.
func (c diffCorpus) expand(t *testing.T, s string) string {
	t.Helper()
	return tokenRef.ReplaceAllStringFunc(s, func(m string) string {
		v, ok := c.Tokens[m[1:len(m)-1]]
		if !ok {
			t.Fatalf("corpus: unknown token %s", m)
		}
		return v
	})
}

type diffEntry struct {
	ID            string   `json:"id"`
	Cookie        []string `json:"cookie"`
	Authorization *string  `json:"authorization"`
	// NormalizedAuthorization is the same bearer token in the exact form
	// getToken reads ("Bearer <token>"), for headers routeapi reads more
	// leniently than getToken (scheme case, spaces: divergence "bearer syntax").
	NormalizedAuthorization *string `json:"normalizedAuthorization"`
	// Duplicates are the cookie names the set carries twice with different values.
	Duplicates []string `json:"duplicates"`
	// NonCanonicalBase64 marks a set whose token carries characters outside
	// base64url (divergence "strict base64url": next-auth v4 skips them).
	NonCanonicalBase64 bool `json:"nonCanonicalBase64"`
}

// libVerdict is one library reading under one cookie name: whether it found
// a session cookie value, and the sub of the token it accepted (nil: none).
type libVerdict struct {
	Cookie bool    `json:"cookie"`
	Sub    *string `json:"sub"`
}

// readings are reader ("v4-pages", "v4-app", "v5") -> cookie name -> verdict.
type readings map[string]map[string]libVerdict

type diffVerdicts struct {
	Versions map[string]string `json:"versions"`
	Now      int64             `json:"now"`
	Entries  []struct {
		ID               string   `json:"id"`
		Readers          readings `json:"readers"`
		NormalizedBearer readings `json:"normalizedBearer"`
	} `json:"entries"`
}

func sessionsTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "sessions", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDifferentialSessions(t *testing.T) {
	corpusJSON := sessionsTestdata(t, "corpus.json")
	var corpus diffCorpus
	if err := json.Unmarshal(corpusJSON, &corpus); err != nil {
		t.Fatalf("corpus.json: %v", err)
	}
	var checkedIn diffVerdicts
	if err := json.Unmarshal(sessionsTestdata(t, "verdicts.json"), &checkedIn); err != nil {
		t.Fatalf("verdicts.json: %v", err)
	}

	// The libraries decide afresh, and their answer must be the checked-in one.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := nextauthmint.Verdicts(ctx, corpusJSON)
	if err != nil {
		t.Fatal(err)
	}
	var fresh diffVerdicts
	if err := json.Unmarshal(out, &fresh); err != nil {
		t.Fatalf("differential.mjs output: %v", err)
	}
	if len(fresh.Entries) != len(corpus.Entries) {
		t.Fatalf("the libraries answered %d sets for %d", len(fresh.Entries), len(corpus.Entries))
	}
	if !reflect.DeepEqual(fresh, checkedIn) {
		for i := range fresh.Entries {
			if i >= len(checkedIn.Entries) || !reflect.DeepEqual(fresh.Entries[i], checkedIn.Entries[i]) {
				t.Errorf("verdicts.json is stale at %q: the libraries now say %+v", fresh.Entries[i].ID, fresh.Entries[i])
			}
		}
		t.Fatalf("testdata/sessions/verdicts.json differs from a fresh run of the libraries (versions %v, checked in %v); "+
			"regenerate it (testdata/sessions/README.md) and review the change", fresh.Versions, checkedIn.Versions)
	}

	now := time.Unix(corpus.Now, 0)
	var divergences int
	kinds := map[string]int{}
	for _, format := range []session.Format{session.FormatV4, session.FormatV5, session.FormatAuto} {
		for _, secure := range []bool{false, true} {
			names := session.CookieNamesFor(format, secure)
			resolver, err := session.NewJWT(session.JWTConfig{Format: format, V4Secret: corpus.V4Secret,
				V5Secrets: []string{corpus.V5Secret}, Secure: secure, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			h := newHarness(t, options{sessions: resolver, users: user.FromClaims{}, cookieNames: names})
			for i, e := range corpus.Entries {
				v := fresh.Entries[i]
				want, why := expectedVerdict(e, v.Readers, v.NormalizedBearer, names)
				if why != "" {
					divergences++
					kind, _, _ := strings.Cut(why, " (")
					kind, _, _ = strings.Cut(strings.TrimPrefix(kind, "divergence: "), " cookie ")
					kinds[kind]++
				}
				t.Run(fmt.Sprintf("%s/secure=%v/%s", format, secure, e.ID), func(t *testing.T) {
					logFrom := h.logs.Len()
					got := routeapiVerdict(t, h, corpus.expandEntry(t, e))
					if got != want {
						t.Fatalf("routeapi: %s, want %s (%s)\nlibraries: %s", show(got), show(want), cmpOr(why, "the libraries' verdict"), showReadings(v.Readers))
					}
					if strings.Contains(why, "ambiguous") && !strings.Contains(h.logs.String()[logFrom:], "ambiguous session cookies") {
						t.Errorf("a deliberate 401 (%s) without the reason in the log: %s", why, h.logs.String()[logFrom:])
					}
				})
			}
		}
	}
	if divergences == 0 {
		t.Error("no set exercised a listed divergence: the corpus lost its ambiguous cases")
	}
	t.Logf("%d sets x 6 configurations; deliberate 401s: %v", len(corpus.Entries), kinds)
}

// expandEntry is e with its token references replaced by the tokens.
func (c diffCorpus) expandEntry(t *testing.T, e diffEntry) diffEntry {
	t.Helper()
	out := e
	out.Cookie = make([]string, len(e.Cookie))
	for i, l := range e.Cookie {
		out.Cookie[i] = c.expand(t, l)
	}
	if e.Authorization != nil {
		a := c.expand(t, *e.Authorization)
		out.Authorization = &a
	}
	return out
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func show(id string) string {
	if id == "" {
		return "401"
	}
	return "200 as " + id
}

func showReadings(r readings) string {
	var b strings.Builder
	for _, rd := range []string{"v4-pages", "v4-app", "v5"} {
		fmt.Fprintf(&b, "%s:", rd)
		for _, n := range []string{session.CookieName, session.SecureCookieName, session.V5CookieName, session.V5SecureCookieName} {
			if v, ok := r[rd][n]; ok {
				sub := "-"
				if v.Sub != nil {
					sub = *v.Sub
				}
				fmt.Fprintf(&b, " %s{cookie:%v sub:%s}", n, v.Cookie, sub)
			}
		}
		b.WriteString("; ")
	}
	return b.String()
}

// routeapiVerdict sends e through the full handler: the user id of the
// published event on 200, "" on 401; anything else fails the test.
func routeapiVerdict(t *testing.T, h *harness, e diffEntry) string {
	t.Helper()
	build := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/api/route", strings.NewReader(`{"data":"diff"}`))
		r.Header.Set("Content-Type", "application/json")
		for _, line := range e.Cookie {
			r.Header.Add("Cookie", latin1(line))
		}
		if e.Authorization != nil {
			r.Header.Set("Authorization", latin1(*e.Authorization))
		}
		return r
	}
	before := len(h.pub.events)
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, build())
	checkAgainstSpec(t, build(), rec)
	switch rec.Code {
	case http.StatusOK:
		if len(h.pub.events) != before+1 {
			t.Fatalf("200 but %d events published", len(h.pub.events)-before)
		}
		return h.pub.events[before].Data.User.ID
	case http.StatusUnauthorized:
		return ""
	}
	t.Fatalf("status %d: %s", rec.Code, rec.Body)
	return ""
}

// expectedVerdict is the verdict routeapi must give for e when it reads the
// cookie names names (in its order), from the libraries' readings. why is
// empty when it is the libraries' own verdict, else the divergence it follows.
//
// The model:
//   - Each name is read as its library reads it (v4 names by next-auth, v5
//     names by @auth/core). The first name under which the library finds a
//     session cookie decides (getToken reads one configured name; routeapi
//     reads both the plain and __Secure- names, the expected one first: the
//     divergence "both cookie names", modelled here as the library's reading
//     of the next name). With no cookie under any name, the bearer token
//     decides, as getToken's fallback does.
//   - A bearer header that routeapi reads more leniently than getToken is
//     judged on its normalized form (divergence "bearer syntax").
//   - A name sent twice with different values, among the names consulted,
//     is 401 (divergence "duplicate cookie").
//   - When next-auth v4's pages-router and App Router readings give
//     different verdicts, 401 (divergence "readers disagree").
//   - A set marked nonCanonicalBase64 is 401 (divergence "strict base64url").
func expectedVerdict(e diffEntry, r, normalized readings, names []string) (string, string) {
	readerFor := func(name, v4 string) string {
		if name == session.V5CookieName || name == session.V5SecureCookieName {
			return "v5"
		}
		return v4
	}
	found := func(name, v4 string) bool { return r[readerFor(name, v4)][name].Cookie }
	world := func(v4 string) string {
		for _, n := range names {
			if v := r[readerFor(n, v4)][n]; v.Cookie {
				return deref(v.Sub)
			}
		}
		bearer := r
		if normalized != nil {
			bearer = normalized
		}
		for _, n := range names {
			if s := bearer[readerFor(n, v4)][n].Sub; s != nil {
				return *s
			}
		}
		return ""
	}
	if e.NonCanonicalBase64 {
		return "", "divergence: strict base64url"
	}
	for _, d := range e.Duplicates {
		for i, n := range names {
			if !strings.HasPrefix(d, n) {
				continue
			}
			consulted := true
			for _, m := range names[:i] {
				if found(m, "v4-pages") || found(m, "v4-app") {
					consulted = false
				}
			}
			if consulted {
				return "", "divergence: duplicate cookie " + d + " (ambiguous)"
			}
			break
		}
	}
	pages, app := world("v4-pages"), world("v4-app")
	if pages != app {
		return "", fmt.Sprintf("divergence: readers disagree (ambiguous: pages router %s, App Router %s)", show(pages), show(app))
	}
	return pages, ""
}

// latin1 is s as the bytes that Node decodes (as latin1) into the string s
// of the corpus: "\u00a0" there is the header byte 0xA0.
func latin1(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return s
		}
		b = append(b, byte(r))
	}
	return string(b)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
