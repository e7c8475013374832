package session_test

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/routeapi/routeapi/internal/session"
)

const (
	plain  = session.CookieName       // next-auth.session-token
	secure = session.SecureCookieName // __Secure-next-auth.session-token
)

type cookie struct{ name, value string }

func request(auth string, cookies ...cookie) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/api/route", nil)
	// The header is written as given (AddCookie would drop quotes).
	pairs := make([]string, len(cookies))
	for i, c := range cookies {
		pairs[i] = c.name + "=" + c.value
	}
	if len(pairs) > 0 {
		r.Header.Set("Cookie", strings.Join(pairs, "; "))
	}
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	return r
}

func TestCookieNames(t *testing.T) {
	if got, want := session.CookieNames(true), []string{"__Secure-next-auth.session-token", "next-auth.session-token"}; !reflect.DeepEqual(got, want) {
		t.Errorf("CookieNames(true) = %q, want %q", got, want)
	}
	if got, want := session.CookieNames(false), []string{"next-auth.session-token", "__Secure-next-auth.session-token"}; !reflect.DeepEqual(got, want) {
		t.Errorf("CookieNames(false) = %q, want %q", got, want)
	}
}

func TestExtract(t *testing.T) {
	big := strings.Repeat("x", 256<<10+1) // over the 256 KiB token limit
	half := strings.Repeat("x", 128<<10+1)
	tests := []struct {
		name       string
		secure     bool
		auth       string
		cookies    []cookie
		want       session.Credential
		wantErr    error
		wantErrMsg string
	}{
		{name: "plain cookie", cookies: []cookie{{plain, "tok"}},
			want: session.Credential{Token: "tok", Source: session.SourceCookie, Cookie: plain}},
		{name: "__Secure- cookie, not the expected name", cookies: []cookie{{secure, "tok"}},
			want: session.Credential{Token: "tok", Source: session.SourceCookie, Cookie: secure}},
		{name: "chunks in order", cookies: []cookie{{plain + ".0", "ab"}, {plain + ".1", "cd"}, {plain + ".2", "e"}},
			want: session.Credential{Token: "abcde", Source: session.SourceCookie, Cookie: plain}},
		{name: "chunks out of order", cookies: []cookie{{plain + ".2", "e"}, {plain + ".0", "ab"}, {plain + ".1", "cd"}},
			want: session.Credential{Token: "abcde", Source: session.SourceCookie, Cookie: plain}},
		// next-auth's SessionStore joins every cookie whose name starts with
		// the session cookie's: a plain cookie beside chunks is no token.
		// joined in SessionStore's order (V8's sort with a NaN key for the
		// plain name): the join is what next-auth decodes, and fails to.
		{name: "a plain cookie beside chunks", cookies: []cookie{{plain, "stale"}, {plain + ".0", "ab"}, {plain + ".1", "cd"}},
			want: session.Credential{Token: "staleabcd", Source: session.SourceCookie, Cookie: plain}},
		{name: "a plain cookie after the chunks", cookies: []cookie{{plain + ".0", "ab"}, {plain + ".1", "cd"}, {plain, "stale"}},
			want: session.Credential{Token: "abcdstale", Source: session.SourceCookie, Cookie: plain}},
		{name: "chunk names as parseInt reads them", cookies: []cookie{{plain + ".a.2", "ef"}, {plain + ".+1", "cd"}, {plain + ".00", "ab"}, {plain + ".3e0", "gh"}},
			want: session.Credential{Token: "abcdefgh", Source: session.SourceCookie, Cookie: plain}},
		{name: "an empty plain cookie beside chunks adds nothing", cookies: []cookie{{plain, ""}, {plain + ".0", "ab"}, {plain + ".1", "cd"}},
			want: session.Credential{Token: "abcd", Source: session.SourceCookie, Cookie: plain}},
		{name: "two plain cookies with different values are ambiguous", cookies: []cookie{{plain, "first"}, {plain, "second"}},
			wantErr: session.ErrAmbiguous, wantErrMsg: "sent twice with different values"},
		{name: "two plain cookies with the same value", cookies: []cookie{{plain, "same"}, {plain, "same"}},
			want: session.Credential{Token: "same", Source: session.SourceCookie, Cookie: plain}},
		{name: "an empty and a non-empty plain cookie are ambiguous", cookies: []cookie{{plain, ""}, {plain, "tok"}},
			wantErr: session.ErrAmbiguous},
		{name: "cookies that only start like ours join in (next-auth's prefix match)",
			cookies: []cookie{{plain + ".foo", "x"}, {plain, "tok"}},
			want:    session.Credential{Token: "xtok", Source: session.SourceCookie, Cookie: plain}},
		{name: "one cookie that only starts like ours is the token",
			cookies: []cookie{{plain + "x", "tok"}},
			want:    session.Credential{Token: "tok", Source: session.SourceCookie, Cookie: plain}},
		{name: "empty cookies that only start like ours add nothing",
			cookies: []cookie{{plain + ".foo", ""}, {plain + ".-1", ""}, {plain, "tok"}},
			want:    session.Credential{Token: "tok", Source: session.SourceCookie, Cookie: plain}},
		{name: "expected name first (insecure)", cookies: []cookie{{secure, "sec"}, {plain, "pln"}},
			want: session.Credential{Token: "pln", Source: session.SourceCookie, Cookie: plain}},
		{name: "expected name first (secure)", secure: true, cookies: []cookie{{plain, "pln"}, {secure, "sec"}},
			want: session.Credential{Token: "sec", Source: session.SourceCookie, Cookie: secure}},
		{name: "expected chunked name first (secure)", secure: true, cookies: []cookie{{plain, "pln"}, {secure + ".1", "c2"}, {secure + ".0", "c1"}},
			want: session.Credential{Token: "c1c2", Source: session.SourceCookie, Cookie: secure}},
		{name: "cookie preferred over bearer", auth: "Bearer from-header", cookies: []cookie{{plain, "from-cookie"}},
			want: session.Credential{Token: "from-cookie", Source: session.SourceCookie, Cookie: plain}},
		{name: "bearer", auth: "Bearer tok",
			want: session.Credential{Token: "tok", Source: session.SourceBearer}},
		{name: "bearer scheme in any case, spaces trimmed", auth: "bEaReR   tok  ", cookies: []cookie{{"other", "x"}},
			want: session.Credential{Token: "tok", Source: session.SourceBearer}},
		{name: "empty cookie (a sign-out) falls through to the bearer", auth: "Bearer tok", cookies: []cookie{{plain, ""}},
			want: session.Credential{Token: "tok", Source: session.SourceBearer}},
		{name: "empty chunks fall through to the bearer", auth: "Bearer tok", cookies: []cookie{{plain + ".0", ""}, {plain + ".1", ""}},
			want: session.Credential{Token: "tok", Source: session.SourceBearer}},
		{name: "bearer percent-decoded as getToken does", auth: "Bearer a%2Eb",
			want: session.Credential{Token: "a.b", Source: session.SourceBearer}},
		{name: "bearer: words after the token are ignored, as getToken does", auth: "Bearer tok more",
			want: session.Credential{Token: "tok", Source: session.SourceBearer}},

		{name: "no credential", wantErr: session.ErrNoCredential},
		{name: "unrelated cookies only", cookies: []cookie{{"theme", "dark"}, {"next-auth.csrf-token", "x"}}, wantErr: session.ErrNoCredential},
		{name: "other authorization scheme", auth: "Basic dTpw", wantErr: session.ErrNoCredential},
		{name: "Bearer with an empty token", auth: "Bearer ", wantErr: session.ErrMalformed},
		{name: "Bearer without a token", auth: "Bearer", wantErr: session.ErrMalformed},
		{name: "bearer too large", auth: "Bearer " + big, wantErr: session.ErrMalformed},
		// A gap is joined as next-auth joins it; the result does not decode.
		{name: "chunk gap", cookies: []cookie{{plain + ".0", "ab"}, {plain + ".2", "cd"}},
			want: session.Credential{Token: "abcd", Source: session.SourceCookie, Cookie: plain}},
		{name: "duplicate chunk, same value", cookies: []cookie{{plain + ".0", "ab"}, {plain + ".0", "ab"}, {plain + ".1", "cd"}},
			want: session.Credential{Token: "abcd", Source: session.SourceCookie, Cookie: plain}},
		{name: "duplicate chunk, different values", cookies: []cookie{{plain + ".0", "ab"}, {plain + ".0", "xy"}, {plain + ".1", "cd"}},
			wantErr: session.ErrAmbiguous, wantErrMsg: "sent twice"},
		{name: "empty plain cookie", cookies: []cookie{{plain, ""}}, wantErr: session.ErrNoCredential},
		{name: "empty chunks", cookies: []cookie{{plain + ".0", ""}, {plain + ".1", ""}}, wantErr: session.ErrNoCredential},
		{name: "quoted value: the pages router strips the quotes, the App Router does not", cookies: []cookie{{plain, `"tok"`}},
			wantErr: session.ErrAmbiguous, wantErrMsg: "App Router"},
		{name: "bearer with bad percent-encoding", auth: "Bearer a%ZZ", wantErr: session.ErrMalformed},
		{name: "plain cookie too large", cookies: []cookie{{plain, big}}, wantErr: session.ErrMalformed},
		{name: "chunks too large together", cookies: []cookie{{plain + ".0", half}, {plain + ".1", half}}, wantErr: session.ErrMalformed},
		{name: "broken cookie is not bypassed by a bearer", auth: "Bearer tok", cookies: []cookie{{plain, "x"}, {plain + ".1", "y"}},
			want: session.Credential{Token: "xy", Source: session.SourceCookie, Cookie: plain}},
		{name: "a lone chunk is the token (decoding decides), not bypassed by a bearer", auth: "Bearer tok", cookies: []cookie{{plain + ".1", "x"}},
			want: session.Credential{Token: "x", Source: session.SourceCookie, Cookie: plain}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := session.Extract(request(tc.auth, tc.cookies...), session.CookieNames(tc.secure))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.wantErrMsg) {
					t.Fatalf("Extract = %+v, %v; want %v (%q)", got, err, tc.wantErr, tc.wantErrMsg)
				}
				if len(err.Error()) > 200 {
					t.Errorf("error echoes the credential: %.200s...", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			if got != tc.want {
				t.Fatalf("Extract = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// Chunk numbers sort numerically, not as strings (.10 after .9).
func TestExtractManyChunksNumericOrder(t *testing.T) {
	var cookies []cookie
	want := ""
	for i := range 12 {
		v := "c" + strconv.Itoa(i) + "-"
		want += v
		cookies = append(cookies, cookie{plain + "." + strconv.Itoa(i), v})
	}
	rand.Shuffle(len(cookies), func(i, j int) { cookies[i], cookies[j] = cookies[j], cookies[i] })
	got, err := session.Extract(request("", cookies...), session.CookieNames(false))
	if err != nil || got.Token != want {
		t.Fatalf("Extract = %q, %v; want %q", got.Token, err, want)
	}
}

func TestExtractChunkLimit(t *testing.T) {
	chunks := func(n int) []cookie {
		var cs []cookie
		for i := range n {
			cs = append(cs, cookie{plain + "." + strconv.Itoa(i), "x"})
		}
		return cs
	}
	if got, err := session.Extract(request("", chunks(64)...), session.CookieNames(false)); err != nil || len(got.Token) != 64 {
		t.Fatalf("64 chunks: %q, %v; want them reassembled", got.Token, err)
	}
	if _, err := session.Extract(request("", chunks(65)...), session.CookieNames(false)); !errors.Is(err, session.ErrMalformed) {
		t.Fatalf("65 chunks: %v, want ErrMalformed", err)
	}
}

func TestHasCookieAndBearer(t *testing.T) {
	names := session.CookieNames(false)
	for _, tc := range []struct {
		name   string
		r      *http.Request
		cookie bool
		bearer bool
	}{
		{"nothing", request(""), false, false},
		{"plain", request("", cookie{plain, "x"}), true, false},
		{"secure", request("", cookie{secure, "x"}), true, false},
		{"chunk", request("", cookie{secure + ".0", "x"}), true, false},
		{"unrelated cookie", request("", cookie{"next-auth.csrf-token", "x"}), false, false},
		{"bearer", request("Bearer t"), false, true},
		{"empty bearer", request("Bearer "), false, false},
		{"basic", request("Basic dTpw"), false, false},
	} {
		if got := session.HasCookie(tc.r, names); got != tc.cookie {
			t.Errorf("%s: HasCookie = %v, want %v", tc.name, got, tc.cookie)
		}
		if got := session.HasBearer(tc.r); got != tc.bearer {
			t.Errorf("%s: HasBearer = %v, want %v", tc.name, got, tc.bearer)
		}
	}
}
