// Package inngest is routeapi's side of Inngest's Event API: the client
// that sends encoded events (one bounded attempt per request) and the
// classification of how a request ended (Outcome), from which the rest of
// routeapi decides what is retried, what trips the circuit breaker, what is
// dead-lettered, how metrics label it and which problem a caller gets.
package inngest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ClientConfig configures a Client. Nothing is read from the environment.
type ClientConfig struct {
	// EventKey is the Inngest event key (a secret; never logged).
	EventKey string
	// BaseURL is the Event API's base URL, e.g. https://inn.gs.
	BaseURL string
	// Dev selects the Inngest dev server (which accepts any key).
	Dev bool
	// Env is the Inngest branch environment, "" for none.
	Env string
	// Timeout bounds one request to the Event API.
	Timeout time.Duration
	// Transport is the HTTP transport, nil for a tuned default.
	Transport http.RoundTripper
}

// Client sends batches of encoded events to the Event API in one bounded
// attempt: no retries, no sleeps, the context honoured. Retrying is the
// caller's job (the spool and its deliverer). It is safe for concurrent use.
type Client struct {
	endpoint string
	key      string
	env      string
	timeout  time.Duration
	http     *http.Client
}

// NewClient returns a Client for cfg.
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.Timeout <= 0 {
		return nil, errors.New("new event API client: timeout must be positive")
	}
	if cfg.BaseURL == "" {
		return nil, errors.New("new event API client: base URL is required")
	}
	key := cfg.EventKey
	if key == "" {
		if !cfg.Dev {
			return nil, errors.New("new event API client: an event key is required outside dev mode")
		}
		key = devEventKey
	}
	tr := cfg.Transport
	if tr == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 64
		tr = t
	}
	return &Client{
		endpoint: strings.TrimRight(cfg.BaseURL, "/") + "/e/" + url.PathEscape(key),
		key:      key,
		env:      cfg.Env,
		timeout:  cfg.Timeout,
		http:     &http.Client{Transport: tr},
	}, nil
}

// Send posts events (each an encoded event object) as one JSON array and
// returns Inngest's ids, one per event in order ("" for each when a 2xx did
// not name one id per event). Errors wrap ErrRejected (a 3xx or 4xx but 408,
// 425 and 429), ErrUnavailable (transport error, 5xx, 408, 425, 429) or
// ErrTimeout (no answer within the timeout or ctx), and never contain the
// event key.
func (c *Client) Send(ctx context.Context, events []json.RawMessage) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	newBody, n := batchBody(events)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, newBody())
	if err != nil {
		return nil, fmt.Errorf("send %d events: %s: %w", len(events), c.redact(err.Error()), ErrUnavailable)
	}
	req.ContentLength = n
	req.GetBody = func() (io.ReadCloser, error) { return newBody(), nil }
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "routeapi")
	req.Header.Set("X-Inngest-Sdk", "go:routeapi")
	req.Header.Set("X-Inngest-Event-Id-Seed", seed())
	if c.env != "" {
		req.Header.Set("X-Inngest-Env", c.env)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("send %d events: %s: %w", len(events), c.redact(err.Error()), transportError(ctx))
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("send %d events: read answer: %s: %w", len(events), c.redact(err.Error()), transportError(ctx))
	}
	var answer struct {
		IDs   []string `json:"ids"`
		Error string   `json:"error"`
	}
	_ = json.Unmarshal(body, &answer) // a body that is not JSON leaves it empty
	if kind := statusError(resp.StatusCode); kind != nil {
		return nil, fmt.Errorf("send %d events: Inngest answered %d %s: %w", len(events), resp.StatusCode, c.redact(answer.Error), kind)
	}
	if len(answer.IDs) != len(events) {
		// A 2xx means Inngest has the events; only their internal ids are
		// unknown. Refusing here would dead-letter accepted events.
		return make([]string, len(events)), nil
	}
	return answer.IDs, nil
}

// batchBody is the Event API request's body, the JSON array of events ("["
// then the events joined by "," then "]"), without building it: body
// returns a new reader that writes the events from where they are
// (net.Buffers: one writev on a TCP connection) and n is its length.
func batchBody(events []json.RawMessage) (body func() io.ReadCloser, n int64) {
	bufs := make(net.Buffers, 0, 2*len(events)+1)
	bufs = append(bufs, []byte{'['})
	n = 2
	for i, e := range events {
		if i > 0 {
			bufs = append(bufs, []byte{','})
			n++
		}
		bufs = append(bufs, e)
		n += int64(len(e))
	}
	bufs = append(bufs, []byte{']'})
	return func() io.ReadCloser { return io.NopCloser(&buffersReader{bufs: append(net.Buffers(nil), bufs...)}) }, n
}

// buffersReader reads net.Buffers and hands them to a writer whole
// (io.Copy uses WriteTo), so the transport does not copy them through its
// own buffer.
type buffersReader struct{ bufs net.Buffers }

func (b *buffersReader) Read(p []byte) (int, error) { return b.bufs.Read(p) }

func (b *buffersReader) WriteTo(w io.Writer) (int64, error) { return b.bufs.WriteTo(w) }

// seed is the X-Inngest-Event-Id-Seed header the SDKs send: unix ms and 10
// random bytes, from which Inngest derives its internal ids.
func seed() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return strconv.FormatInt(time.Now().UnixMilli(), 10) + "," + base64.StdEncoding.EncodeToString(b)
}

// redact removes the event key from a message.
func (c *Client) redact(msg string) string {
	msg = strings.ReplaceAll(msg, c.key, "[event-key]")
	return strings.ReplaceAll(msg, url.PathEscape(c.key), "[event-key]")
}

// devEventKey is what Inngest's SDKs send in dev mode without a key; the dev
// server accepts any key.
const devEventKey = "NO_EVENT_KEY_SET"
