// Package delivery gets events to Inngest: a micro-batcher that coalesces
// concurrent publishes into one Event API request (and sends a sendEvents
// batch as one request of its own: Publisher.PublishAll), a circuit
// breaker that sends requests straight to the spool while Inngest is down,
// and a deliverer that drains the spool with capped, jittered exponential
// backoff.
// Both the batcher and the deliverer reach Inngest through one Sender
// (timing, metrics, the breaker, resending a refused batch event by event),
// and events Inngest refuses go to the dead letters by one path
// (deadLetters). What each outcome means is inngest.Classify's.
package delivery
