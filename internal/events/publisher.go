package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/inngest/inngestgo"
)

// Errors a publish can end in. Each means Inngest has not (yet) accepted the
// event, so the caller must not report success.
var (
	// ErrUnavailable: Inngest is unreachable or answered 5xx.
	ErrUnavailable = errors.New("inngest unavailable")
	// ErrTimeout: Inngest did not answer within the publish timeout. It may
	// still accept the event later; a retry with the same id is deduplicated.
	ErrTimeout = errors.New("inngest did not answer in time")
	// ErrRejected: Inngest refused the event (4xx) or answered without an id.
	ErrRejected = errors.New("inngest rejected the event")
	// ErrBusy: too many publishes are waiting on Inngest already.
	ErrBusy = errors.New("too many publishes in flight")
)

// devEventKey is what Inngest's SDKs send in dev mode without a key; the dev
// server accepts any key.
const devEventKey = "NO_EVENT_KEY_SET"

// DefaultMaxInFlight bounds the publishes waiting on Inngest at once.
// inngestgo ignores the request context and retries for seconds, so a publish
// that timed out keeps a goroutine busy until inngestgo gives up; the bound
// keeps an Inngest outage from piling them up without end.
const DefaultMaxInFlight = 1024

// PublisherConfig configures a Publisher. EventKey and BaseURL are used as
// given; nothing is read from the environment.
type PublisherConfig struct {
	// EventKey is the Inngest event key (a secret; never logged).
	EventKey string
	// BaseURL is the Event API's base URL, e.g. https://inn.gs.
	BaseURL string
	// Dev selects the Inngest dev server.
	Dev bool
	// Env is the Inngest branch environment, "" for none.
	Env string
	// Timeout bounds how long Publish waits. Each HTTP attempt is bounded by it too.
	Timeout time.Duration
	// MaxInFlight bounds concurrent publishes; 0 means DefaultMaxInFlight.
	MaxInFlight int
	// Transport is the HTTP transport, nil for http.DefaultTransport.
	Transport http.RoundTripper
	// Logger receives inngestgo's own log lines.
	Logger *slog.Logger
}

// Publisher publishes events to Inngest with inngestgo. It is safe for concurrent use.
type Publisher struct {
	client   inngestgo.Client
	timeout  time.Duration
	eventKey string
	inflight chan struct{}
}

// NewPublisher returns a Publisher for cfg.
func NewPublisher(cfg PublisherConfig) (*Publisher, error) {
	if cfg.Timeout <= 0 {
		return nil, errors.New("new publisher: timeout must be positive")
	}
	if cfg.BaseURL == "" {
		return nil, errors.New("new publisher: base URL is required")
	}
	key := cfg.EventKey
	if key == "" {
		if !cfg.Dev {
			return nil, errors.New("new publisher: an event key is required outside dev mode")
		}
		key = devEventKey
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	opts := inngestgo.ClientOpts{
		AppID:           "routeapi",
		EventKey:        &key,
		EventAPIBaseURL: &base,
		Dev:             &cfg.Dev,
		HTTPClient:      &http.Client{Timeout: cfg.Timeout, Transport: cfg.Transport},
		Logger:          cfg.Logger,
	}
	if cfg.Env != "" {
		opts.Env = &cfg.Env
	}
	client, err := inngestgo.NewClient(opts)
	if err != nil {
		return nil, fmt.Errorf("new publisher: %w", err)
	}
	return &Publisher{
		client:   client,
		timeout:  cfg.Timeout,
		eventKey: key,
		inflight: make(chan struct{}, cfg.MaxInFlight),
	}, nil
}

// Publish sends e and returns the ids Inngest gave it. It returns within the
// timeout (or when ctx ends), whatever Inngest does; errors wrap
// ErrUnavailable, ErrTimeout, ErrRejected or ErrBusy and never contain the
// event key.
func (p *Publisher) Publish(ctx context.Context, e Event) ([]string, error) {
	select {
	case p.inflight <- struct{}{}:
	default:
		return nil, fmt.Errorf("publish event %s: %w", e.ID, ErrBusy)
	}
	type result struct {
		ids []string
		err error
	}
	done := make(chan result, 1)
	go func() {
		// inngestgo ignores ctx and may retry after we stopped waiting;
		// the event id makes a late success harmless.
		ids, err := p.client.SendMany(context.WithoutCancel(ctx), []any{e})
		<-p.inflight // free the slot before the caller can see the result
		done <- result{ids, err}
	}()

	timer := time.NewTimer(p.timeout)
	defer timer.Stop()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, fmt.Errorf("publish event %s: %s: %w", e.ID, p.redact(r.err.Error()), classify(r.err))
		}
		if len(r.ids) != 1 || r.ids[0] == "" {
			return nil, fmt.Errorf("publish event %s: Inngest answered with %d ids: %w", e.ID, len(r.ids), ErrRejected)
		}
		return r.ids, nil
	case <-timer.C:
		return nil, fmt.Errorf("publish event %s: no answer within %s: %w", e.ID, p.timeout, ErrTimeout)
	case <-ctx.Done():
		return nil, fmt.Errorf("publish event %s: %w: %w", e.ID, ctx.Err(), ErrTimeout)
	}
}

// redact removes the event key (which inngestgo puts in the URL, and so in
// transport errors) from a message.
func (p *Publisher) redact(msg string) string {
	msg = strings.ReplaceAll(msg, p.eventKey, "[event-key]")
	return strings.ReplaceAll(msg, url.PathEscape(p.eventKey), "[event-key]")
}

// classify maps an inngestgo error to ErrRejected (Inngest answered 4xx) or
// ErrUnavailable (transport error or 5xx). inngestgo reports statuses only in
// its messages.
func classify(err error) error {
	msg := err.Error()
	for _, prefix := range []string{"bad request:", "unauthorized:", "forbidden:"} {
		if strings.HasPrefix(msg, prefix) {
			return ErrRejected
		}
	}
	if rest, ok := strings.CutPrefix(msg, "unknown status code sending event: "); ok {
		if code, err := strconv.Atoi(strings.TrimSpace(rest)); err == nil && code >= 400 && code < 500 {
			return ErrRejected
		}
	}
	return ErrUnavailable
}
