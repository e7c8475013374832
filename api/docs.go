package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/swaggest/swgui/v5emb"

	routeapi "github.com/routeapi/routeapi"
	"github.com/routeapi/routeapi/gen"
)

// mountDocs serves the contract (/openapi.yaml as written, /openapi.json as
// generated) and Swagger UI (/docs) from assets embedded in the binary: the
// docs load nothing from the network.
func mountDocs(r chi.Router) {
	r.Get("/openapi.yaml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(routeapi.OpenAPIYAML)
	})
	r.Get("/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		spec, err := gen.GetSpecJSON()
		if err != nil {
			writeProblem(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(spec)
	})
	r.Get("/docs", http.RedirectHandler("/docs/", http.StatusMovedPermanently).ServeHTTP)
	r.Mount("/docs/", v5emb.New("routeapi", "/openapi.json", "/docs/"))
}
