package config_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/routeapi/routeapi/internal/config"
)

// TestAppOriginsTrusted: the origins of NEXTAUTH_URL and AUTH_URL, as a
// browser writes them in Origin, are trusted before ROUTEAPI_TRUSTED_ORIGINS.
func TestAppOriginsTrusted(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"none", minimal, nil},
		{"NEXTAUTH_URL with a path", with(minimal, "NEXTAUTH_URL", "https://App.Example.com/api/auth"), []string{"https://app.example.com"}},
		{"default https port", with(minimal, "NEXTAUTH_URL", "https://app.example.com:443/"), []string{"https://app.example.com"}},
		{"default http port", with(minimal, "NEXTAUTH_URL", "http://app.internal:80"), []string{"http://app.internal"}},
		{"other port", with(minimal, "NEXTAUTH_URL", "http://192.168.1.20:3000"), []string{"http://192.168.1.20:3000"}},
		{"IPv6", with(minimal, "AUTH_URL", "http://[::1]:3000/api/auth"), []string{"http://[::1]:3000"}},
		{"AUTH_URL", with(minimal, "AUTH_URL", "https://v5.example.com/api/auth"), []string{"https://v5.example.com"}},
		{"both, the same origin once", with(minimal, "NEXTAUTH_URL", "https://app.example.com", "AUTH_URL", "https://app.example.com/api/auth"),
			[]string{"https://app.example.com"}},
		{"both and extra ones", with(minimal, "NEXTAUTH_URL", "http://web:3000", "AUTH_URL", "https://a.example",
			"ROUTEAPI_TRUSTED_ORIGINS", "https://b.example,http://web:3000"),
			[]string{"http://web:3000", "https://a.example", "https://b.example"}},
		// http.CrossOriginProtection compares the Origin header byte for
		// byte, and a browser serialises it in lower case without a default
		// port: a trusted origin written otherwise must still match it.
		{"internationalised host, as the browser's Origin writes it (punycode)", with(minimal, "NEXTAUTH_URL", "https://Bücher.example/api/auth",
			"ROUTEAPI_TRUSTED_ORIGINS", "https://xn--bcher-kva.example,http://b%C3%BCcher.example:8080"),
			[]string{"https://xn--bcher-kva.example", "http://xn--bcher-kva.example:8080"}},
		{"extra ones as a browser writes them", with(minimal, "NEXTAUTH_URL", "http://web:3000",
			"ROUTEAPI_TRUSTED_ORIGINS", "HTTPS://B.Example:443, http://WEB:3000, http://[::1]:80, chrome-extension://abc"),
			[]string{"http://web:3000", "https://b.example", "http://[::1]", "chrome-extension://abc"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := load(t, tc.env).TrustedOrigins; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("TrustedOrigins = %q, want %q", got, tc.want)
			}
		})
	}
	for _, bad := range []string{"/api/auth", "app.example.com", "ftp://app.example.com", "https://user:pw@app.example.com"} {
		for _, name := range []string{"AUTH_URL", "NEXTAUTH_URL"} {
			c, err := config.Load(env(with(minimal, name, bad)))
			if err == nil {
				t.Errorf("%s %q accepted (trusted %q); want an error", name, bad, c.TrustedOrigins)
			} else if strings.Contains(err.Error(), ":pw@") {
				t.Errorf("%s: the error shows the password: %v", name, err)
			}
		}
	}
}
