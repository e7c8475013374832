package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"golang.org/x/net/idna"
)

// trustedOrigins are the app's own origins (appOrigins), then those of
// ROUTEAPI_TRUSTED_ORIGINS (comma-separated), each written as a browser
// writes Origin, which CrossOriginProtection compares byte for byte.
func trustedOrigins(e *env) []string {
	out := appOrigins(e)
	for _, o := range strings.Split(e.str("ROUTEAPI_TRUSTED_ORIGINS"), ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if err := checkOrigin(o); err != nil {
			e.bad("ROUTEAPI_TRUSTED_ORIGINS", "%v", err)
			continue
		}
		if n, ok := originOf(o); ok {
			o = n
		}
		if !contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}

// checkOrigin accepts what http.CrossOriginProtection.AddTrustedOrigin
// accepts: scheme://host[:port], nothing more.
func checkOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("want origins like https://app.example.com, got %q", o)
	}
	return nil
}

// appOrigins returns the origins of the app's own URLs, NEXTAUTH_URL (next-auth
// v4) and AUTH_URL (Auth.js v5), those that are set, without duplicates. A
// browser on the app's pages calls routeapi through the app's rewrite of
// /api/route, and the rewriting proxy replaces Host; http.CrossOriginProtection
// then sees the app's Origin beside a foreign Host and refuses the request
// from a browser that sends no Sec-Fetch-Site, unless the origin is trusted.
// An unset or invalid URL adds nothing (an invalid one is reported).
func appOrigins(e *env) []string {
	var out []string
	for _, name := range []string{"NEXTAUTH_URL", "AUTH_URL"} {
		raw := e.str(name)
		if raw == "" {
			continue
		}
		o, ok := originOf(raw)
		if !ok {
			// loadSession reports a NEXTAUTH_URL that is no http(s) URL; one
			// with user info would otherwise trust nothing, silently.
			if name != "NEXTAUTH_URL" || isHTTPURL(raw) {
				e.bad(name, "want an absolute http(s) URL without user info, got %q", redacted(raw))
			}
			continue
		}
		if !contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}

// originOf is the origin of an absolute http(s) URL as a browser serialises
// it in the Origin header (RFC 6454 §6.2; the URL Standard): the scheme and
// host in lower case (an internationalised host in punycode), the port only
// when it is not the scheme's default, no path.
func originOf(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil {
		return "", false
	}
	host, ok := asciiHost(strings.ToLower(u.Hostname()))
	if !ok {
		return "", false
	}
	port := u.Port()
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]" // an IPv6 literal
	}
	return u.Scheme + "://" + host, true
}

// asciiHost is host as the URL Standard's host parser writes it: an
// internationalised domain to ASCII (UTS #46), as browsers write the host in
// Origin (https://xn--bcher-kva.example); an ASCII host or an IPv6 literal
// as it is.
func asciiHost(host string) (string, bool) {
	if isASCII(host) || strings.Contains(host, ":") {
		return host, true
	}
	a, err := idna.Lookup.ToASCII(host)
	if err != nil {
		return "", false
	}
	return a, true
}

// redacted is raw with the password of its user info, if any, replaced by
// "xxxxx" (url.URL.Redacted): an error message must not show it.
func redacted(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		return u.Redacted()
	}
	return raw
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
