package kiosk

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

// uiFS holds the operator UI: one page, its script, its styles.
//
//go:embed ui
var uiFS embed.FS

// routes builds the kiosk's own ServeMux.
func (s *Server) buildRoutes() http.Handler {
	mux := http.NewServeMux()
	ui, err := fs.Sub(uiFS, "ui")
	if err != nil {
		panic("kiosk: embedded UI: " + err.Error()) // the embed pattern is fixed at build time
	}
	files := http.FileServerFS(ui)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, ui, "index.html")
	})
	mux.Handle("GET /ui/", http.StripPrefix("/ui/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") || r.URL.Path == "index.html" {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})))
	mux.HandleFunc("GET /display/{lane}", s.handleDisplayPage)
	mux.HandleFunc("GET /display/{lane}/events", s.handleDisplayEvents)
	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.HandleFunc("GET /readyz", s.handleReadyz)
	mux.Handle("GET /metrics", s.metrics.handler())

	s.routes = append(s.routes, route{method: http.MethodPost, path: []string{"api", "v1", "login"}})
	mux.HandleFunc("POST /api/v1/login", s.handleLogin)
	s.api(mux, http.MethodPost, "/api/v1/logout", s.handleLogout)
	s.routes = append(s.routes, route{method: http.MethodGet, path: []string{"api", "v1", "session"}})
	mux.HandleFunc("GET /api/v1/session", s.handleSession)

	s.api(mux, http.MethodGet, "/api/v1/lanes", s.handleLanes)
	s.api(mux, http.MethodGet, "/api/v1/park", s.handlePark)
	s.api(mux, http.MethodGet, "/api/v1/arrivals", s.handleArrivals) // arrivals.go
	s.api(mux, http.MethodGet, "/api/v1/events", s.handleEvents)
	s.api(mux, http.MethodPost, "/api/v1/lanes/{lane}/release", s.handleDecision)
	s.api(mux, http.MethodPost, "/api/v1/lanes/{lane}/refuse", s.handleDecision)
	s.api(mux, http.MethodPost, "/api/v1/lanes/{lane}/plate", s.handlePlate)
	s.api(mux, http.MethodPost, "/api/v1/lockdown", s.handleLockdown)
	s.api(mux, http.MethodPost, "/api/v1/evacuation", s.handleEvacuation) // evacuation.go

	s.api(mux, http.MethodGet, "/api/v1/inspections", s.handleSearch)
	s.api(mux, http.MethodGet, "/api/v1/inspections/{id}", s.handleInspection)
	s.api(mux, http.MethodGet, "/api/v1/inspections/{id}/faces", s.handleFaces)
	s.api(mux, http.MethodGet, "/api/v1/inspections/{id}/faces/{kind}", s.handleFaceImage)
	s.api(mux, http.MethodGet, "/api/v1/inspections/{id}/plate-pictures", s.handlePlatePictures) // plates.go
	s.api(mux, http.MethodGet, "/api/v1/inspections/{id}/plate-pictures/{kind}", s.handlePlatePicture)
	s.api(mux, http.MethodGet, "/api/v1/export", s.handleExport)

	s.api(mux, http.MethodGet, "/api/v1/health", s.handleHealth)
	s.api(mux, http.MethodGet, "/api/v1/audit/verify", s.handleVerifyAudit)
	s.api(mux, http.MethodGet, "/api/v1/lockouts", s.handleLockouts)
	s.api(mux, http.MethodGet, "/api/v1/logs", s.handleLogs)
	s.api(mux, http.MethodPost, "/api/v1/operators/{name}/unlock", s.handleUnlock)

	mux.HandleFunc("/api/", s.notFound)
	if s.cfg.PlatePush == nil {
		return securityHeaders(mux)
	}
	// The plate cameras push to the same path the operator types plates
	// into (docs/design.md, "The assembly"): a request with a camera's
	// bearer token goes to the push handler, which checks the token; any
	// other to the kiosk's own, which wants a session and its CSRF token.
	outer := http.NewServeMux()
	outer.Handle("/", mux)
	outer.HandleFunc("POST /api/v1/lanes/{lane}/plate", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			s.cfg.PlatePush.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
	// The Hikvision and Dahua cameras' own pushes (device/plate), on a
	// path of their own: they authenticate there, never with a session.
	if n, ok := s.cfg.PlatePush.(interface {
		ServeNative(http.ResponseWriter, *http.Request)
	}); ok {
		outer.HandleFunc("POST /api/v1/cameras/{lane}/{rest...}", n.ServeNative)
	}
	return securityHeaders(outer)
}
