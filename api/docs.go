package api

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/swaggest/swgui/v5emb"
	"go.yaml.in/yaml/v3"

	routeapi "github.com/routeapi/routeapi"
)

// mountDocs serves the contract (/openapi.yaml as written, /openapi.json the
// same document in JSON, contractJSON) and Swagger UI (/docs) from assets embedded in the binary: the
// docs load nothing from the network. The console's answers carry a
// Content-Security-Policy (docsCSP) and X-Frame-Options: DENY, so no other
// site can frame it.
func mountDocs(r chi.Router) error {
	r.Get("/openapi.yaml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(routeapi.OpenAPIYAML)
	})
	specJSON, err := contractJSON(routeapi.OpenAPIYAML)
	if err != nil {
		return err
	}
	r.Get("/openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(specJSON)
	})
	r.Get("/docs", http.RedirectHandler("/docs/", http.StatusMovedPermanently).ServeHTTP)
	ui := v5emb.New("routeapi", "/openapi.json", "/docs/")
	csp, err := docsCSP(ui)
	if err != nil {
		return err
	}
	r.Get("/docs/*", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Frame-Options", "DENY")
		ui.ServeHTTP(&problemOnError{ResponseWriter: w, r: r}, r)
	})
	return nil
}

// problemOnError turns the error answers of a handler that is not ours (the
// Swagger UI asset server's plain-text 404 for an unknown asset) into
// problem documents: the status is kept, the handler's body dropped.
type problemOnError struct {
	http.ResponseWriter
	r        *http.Request
	replaced bool
}

func (p *problemOnError) WriteHeader(code int) {
	if code < http.StatusBadRequest {
		p.ResponseWriter.WriteHeader(code)
		return
	}
	p.replaced = true
	p.Header().Del("Content-Encoding")
	if code == http.StatusNotFound {
		writeProblem(p.ResponseWriter, p.r, &problemError{kind: kindNotFound, detail: "There is nothing at this path."})
		return
	}
	writeProblem(p.ResponseWriter, p.r, &problemError{kind: kindInternal, detail: detailInternal,
		err: fmt.Errorf("docs: the Swagger UI handler answered %d", code)})
}

func (p *problemOnError) Write(b []byte) (int, error) {
	if p.replaced {
		return len(b), nil
	}
	return p.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the underlying writer.
func (p *problemOnError) Unwrap() http.ResponseWriter { return p.ResponseWriter }

// inlineBlock matches an inline <script> or <style> element of the Swagger UI
// page (one without a src attribute) and captures its text.
var inlineBlock = regexp.MustCompile(`(?s)<(script|style)>(.*?)</(?:script|style)>`)

// docsCSP returns the Content-Security-Policy of the console: nothing but
// what its page needs, all from this origin. The page (swaggest/swgui's
// template) has inline <script> and <style> elements; they are allowed by
// their SHA-256 hashes (CSP Level 2 hash sources), computed here from the
// page ui actually serves, which is the same on every request (the title
// and paths are fixed). Swagger UI's stylesheet uses data: images; "Try it
// out" and the spec are fetched from this origin (connect-src 'self').
func docsCSP(ui http.Handler) (string, error) {
	rec := httptest.NewRecorder()
	ui.ServeHTTP(rec, httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/docs/", nil))
	if rec.Code != http.StatusOK {
		return "", fmt.Errorf("docs: the Swagger UI page answers %d", rec.Code)
	}
	hashes := map[string][]string{}
	for _, m := range inlineBlock.FindAllStringSubmatch(rec.Body.String(), -1) {
		sum := sha256.Sum256([]byte(m[2]))
		hashes[m[1]] = append(hashes[m[1]], "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	}
	if len(hashes["script"]) == 0 {
		return "", fmt.Errorf("docs: no inline script found in the Swagger UI page")
	}
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self' " + strings.Join(hashes["script"], " "),
		strings.TrimSpace("style-src 'self' " + strings.Join(hashes["style"], " ")),
		"img-src 'self' data:",
		"font-src 'self'",
		"connect-src 'self'",
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
	}, "; "), nil
}

// contractJSON is the contract written as YAML (openapi.yaml) in JSON: the
// same document, member for member (object members sorted by name), with
// the operationIds as written. gen's embedded spec is not served: oapi-codegen
// renames the operationIds it holds to Go names (postRoute → PostRoute), so
// Swagger UI's deep links and the JSON would not be the contract's.
func contractJSON(yamlDoc []byte) ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(yamlDoc, &doc); err != nil {
		return nil, fmt.Errorf("read openapi.yaml: %w", err)
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml as JSON: %w", err)
	}
	return out, nil
}
