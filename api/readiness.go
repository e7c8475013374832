package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/routeapi/routeapi/gen"
	"github.com/routeapi/routeapi/internal/delivery"
	"github.com/routeapi/routeapi/internal/diskspace"
	"github.com/routeapi/routeapi/internal/settings"
	"github.com/routeapi/routeapi/internal/spool"
)

// SettingsStater is a SettingsSource that also reports its load state
// (settings.Store does); /readyz includes it when the source has it.
type SettingsStater interface {
	State() settings.State
}

// kindShuttingDown answers /readyz once the process has begun to stop.
var kindShuttingDown = kind{"shutting-down", "Shutting down", http.StatusServiceUnavailable, 5}

// errShuttingDown is /readyz's answer while the process stops.
var errShuttingDown = errors.New("the process is shutting down")

// readiness is what /readyz remembers between probes.
type readiness struct {
	shuttingDown func() bool

	mu        sync.Mutex
	lastStats spool.Stats // the last figures the spool gave
	spoolDown bool        // the last read failed (logged once per outage)
	diskLow   bool        // the spool's disk was at its reserve (logged once per episode)
}

// GetHealthz answers while the process is up.
//
// GET /healthz
func (s *Server) GetHealthz(context.Context, gen.GetHealthzRequestObject) (gen.GetHealthzResponseObject, error) {
	return gen.GetHealthz200JSONResponse{Status: gen.HealthStatusOk}, nil
}

// GetReadyz answers whether this instance can serve requests now, with the
// settings and delivery state (ready).
//
// GET /readyz
func (s *Server) GetReadyz(ctx context.Context, _ gen.GetReadyzRequestObject) (gen.GetReadyzResponseObject, error) {
	resp, err := s.ready(ctx)
	if err != nil {
		p := toProblem(err)
		p.probe = true
		return nil, p
	}
	return resp, nil
}

// ready answers /readyz. Readiness is "can this instance serve requests
// now": it needs settings and a way to publish. Events can be published
// while the Inngest circuit is closed (directly) or while the spool can be
// written (queued); an unreadable spool or a disk down to its reserve with
// a closed circuit, or a broken settings edit with good settings in force,
// is reported in the body, not by turning unready: with replicas sharing
// one spool database, that would take all of them out at once while
// requests succeed.
func (s *Server) ready(ctx context.Context) (gen.GetReadyzResponseObject, error) {
	if sd := s.readiness.shuttingDown; sd != nil && sd() {
		return nil, &problemError{kind: kindShuttingDown, detail: "This instance is shutting down: the requests in flight finish, new ones should go elsewhere.",
			err: errShuttingDown}
	}
	if err := s.settingsLoaded(ctx); err != nil {
		return nil, err
	}
	out := gen.GetReadyz200JSONResponse{Status: gen.ReadinessStatusReady, Circuit: gen.Closed}
	if st, ok := s.settings.(SettingsStater); ok {
		out.Settings = settingsStatus(st.State())
	}
	if s.delivery == nil {
		return out, nil
	}
	circuit := s.delivery.State()
	out.Circuit = gen.ReadinessCircuit(circuit.String())
	st, err := s.spoolStats(ctx, circuit)
	available := err == nil
	if !available && circuit != delivery.Closed {
		return nil, &problemError{kind: kindSpoolUnavailable,
			detail: "Inngest is unavailable and the event spool cannot be read: events can be neither sent nor queued. Retry later.", err: err}
	}
	s.noteDiskLow(st, available, circuit)
	if available && st.Disk.Low && circuit != delivery.Closed {
		return nil, &problemError{kind: kindSpoolFull,
			detail: fmt.Sprintf("Inngest is unavailable and the spool's disk is down to its free-space reserve (%d bytes free, %d reserved): new events can be neither sent nor queued until queued ones are delivered. Retry later.", st.Disk.Free, st.Disk.Min),
			err:    diskspace.ErrLow}
	}
	out.Spool = spoolStatus(st, available, s.now())
	return out, nil
}

// settingsLoaded is nil once settings are in force. While none has ever
// loaded it is the 503 settings-unavailable, which tells the operator
// probing /readyz why (the file, the key and line; the same text as
// settings.lastError while good settings are in force) when the source
// knows it. The route's own 503 says less.
func (s *Server) settingsLoaded(ctx context.Context) error {
	_, err := s.settingsFor(ctx)
	if err == nil {
		return nil
	}
	if st, ok := s.settings.(SettingsStater); ok {
		if why := st.State().LastError; why != "" {
			return &problemError{kind: kindNoSettings, err: fmt.Errorf("readiness: %w", err),
				detail: "No settings file has loaded: " + why + ". Fix the file: it is read again when it changes and on SIGHUP."}
		}
	}
	return fmt.Errorf("readiness: %w", err)
}

// spoolStats reads the spool's figures. When the spool cannot be read it
// returns the last figures it read with the error, and logs the outage once
// (at its start; its end at INFO).
func (s *Server) spoolStats(ctx context.Context, circuit delivery.State) (spool.Stats, error) {
	rd := s.readiness
	st, err := s.delivery.Stats(ctx)
	rd.mu.Lock()
	wasDown := rd.spoolDown
	if err == nil {
		rd.lastStats, rd.spoolDown = st, false
	} else {
		st, rd.spoolDown = rd.lastStats, true
	}
	rd.mu.Unlock()
	switch {
	case err != nil && !wasDown:
		s.log.Error("readiness: the spool cannot be read; events Inngest does not take at once cannot be queued (ready while the circuit is closed)",
			"err", err.Error(), "circuit", circuit.String())
	case err == nil && wasDown:
		s.log.Info("readiness: the spool can be read again")
	}
	return st, err
}

// noteDiskLow logs once when the spool's disk comes down to its free-space
// reserve, and once when it is above it again.
func (s *Server) noteDiskLow(st spool.Stats, available bool, circuit delivery.State) {
	rd := s.readiness
	rd.mu.Lock()
	wasLow := rd.diskLow
	rd.diskLow = available && st.Disk.Low
	rd.mu.Unlock()
	switch {
	case available && st.Disk.Low && !wasLow:
		s.log.Error("readiness: the spool's disk is down to its free-space reserve; new events and Idempotency-Keys are refused until queued ones are delivered",
			"free_bytes", st.Disk.Free, "reserve_bytes", st.Disk.Min, "circuit", circuit.String())
	case available && !st.Disk.Low && wasLow:
		s.log.Info("readiness: the spool's disk is above its reserve again")
	}
}

// spoolStatus is the spool part of /readyz; st are the last figures read
// when the spool is not available.
func spoolStatus(st spool.Stats, available bool, now time.Time) gen.SpoolStatus {
	out := gen.SpoolStatus{
		Draining:         st.Depth > 0,
		Depth:            st.Depth,
		OldestAgeSeconds: float32(st.OldestAge(now).Seconds()),
		DeadLetters:      st.Dead,
		Available:        &available,
	}
	if st.Disk.Min > 0 {
		low := st.Disk.Low
		out.DiskLow = &low
	}
	return out
}

// settingsStatus is the settings part of /readyz.
func settingsStatus(st settings.State) *gen.SettingsStatus {
	out := &gen.SettingsStatus{LoadedAt: st.LoadedAt.UTC(), ReloadFailures: int(min(st.Failures, math.MaxInt32))}
	if st.LastError != "" {
		msg, at := st.LastError, st.LastErrorAt.UTC()
		out.LastError, out.LastErrorAt = &msg, &at
	}
	return out
}
