// The generated client against the built routeapi binary and a real Inngest
// dev server (both started by testdata/harness). Run by `make test-client`,
// after `tsc` has built dist/ from src/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRouteClient, newIdempotencyKey } from "../dist/index.js";
import { startInngest, startRouteAPI, settingsYAML, freePort } from "../../../testdata/harness/harness.mjs";

const EVENT = "app/route.requested";
let inngest;
let api;

before(async () => {
  inngest = await startInngest();
  api = await startRouteAPI({ inngestURL: inngest.url });
});

after(async () => {
  await api?.stop();
  await inngest?.stop();
});

// A client as a Next.js server would make it: the session cookie forwarded.
function cookieClient(token = api.token()) {
  return createRouteClient({ baseUrl: api.url, headers: { cookie: `next-auth.session-token=${token}` } });
}

function assertSuccess(res) {
  assert.equal(res.ok, true, `expected 200, got ${res.status}: ${JSON.stringify(res.problem)}`);
  assert.equal(res.status, 200);
  assert.equal(res.data.success, "true");
  assert.equal(res.data.ids.length, 1);
  assert.match(res.data.eventId, /^\S+$/);
  assert.match(res.requestId, /^[\x21-\x7e]{1,128}$/);
  assert.match(res.response.headers.get("content-type"), /^application\/json/);
}

// assertProblem checks a failure is the documented problem document.
function assertProblem(res, status, kind) {
  assert.equal(res.ok, false, `expected ${status}, got 200`);
  assert.equal(res.status, status);
  assert.match(res.response.headers.get("content-type"), /^application\/problem\+json/);
  assert.equal(res.problem.status, status);
  assert.equal(res.problem.type, `urn:routeapi:problem:${kind}`);
  assert.equal(typeof res.problem.title, "string");
  assert.equal(res.problem.instance, `urn:routeapi:request:${res.requestId}`);
  if (status === 503 || status === 429 || status === 409) {
    assert.ok(res.retryAfter >= 1, `${status} without Retry-After: ${res.response.headers.get("retry-after")}`);
  } else {
    assert.equal(res.retryAfter, undefined);
  }
}

test("success with a session cookie: 200, and Inngest received the RouteEvent", async () => {
  const token = api.token({ sub: "user-cookie", email: "cookie@example.com", name: "Cookie User" });
  const data = { orderId: "ord_123", items: [1, 2.5, "three"], nested: { ok: true } };
  const res = await cookieClient(token).postRoute(data);
  assertSuccess(res);

  const [event] = await inngest.waitEvent(EVENT, res.data.eventId);
  /** @type {import("../dist/index.js").RouteEvent["data"]} */
  const got = event.data;
  assert.deepEqual(got.data, data);
  assert.deepEqual(got.user, { id: "user-cookie", email: "cookie@example.com", name: "Cookie User" });
  assert.deepEqual(got.settings, { appName: "node-tests" });
  assert.equal(got.requestId, res.requestId);
});

test("success with a bearer token and the original string payload", async () => {
  const client = createRouteClient({ baseUrl: api.url, headers: { authorization: `Bearer ${api.token({ sub: "user-bearer" })}` } });
  const res = await client.postRoute("data");
  assertSuccess(res);
  const [event] = await inngest.waitEvent(EVENT, res.data.eventId);
  assert.equal(event.data.data, "data");
  assert.equal(event.data.user.id, "user-bearer");
});

test("idempotent retry: the same key gives the first answer again, another key another event", async () => {
  const client = cookieClient(api.token({ sub: "user-retry" }));
  const key = newIdempotencyKey();
  assert.match(key, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(newIdempotencyKey(), key);
  const first = await client.postRoute({ n: 1 }, { idempotencyKey: key });
  const retry = await client.postRoute({ n: 1 }, { idempotencyKey: key });
  const other = await client.postRoute({ n: 1 }, { idempotencyKey: newIdempotencyKey() });
  for (const r of [first, retry, other]) assertSuccess(r);
  assert.equal(retry.data.eventId, first.data.eventId);
  assert.deepEqual(retry.data.ids, first.data.ids);
  assert.notEqual(other.data.eventId, first.data.eventId);
  assert.notEqual(retry.requestId, first.requestId);
  // The retry was answered from the idempotency store: one event in Inngest.
  await inngest.waitEvent(EVENT, other.data.eventId);
  const events = await inngest.waitEvent(EVENT, first.data.eventId);
  assert.equal(events.length, 1);
});

test("422 idempotency-key-reused: the same key with other data", async () => {
  const client = cookieClient(api.token({ sub: "user-reuse" }));
  const key = newIdempotencyKey();
  assertSuccess(await client.postRoute({ amount: 10 }, { idempotencyKey: key }));
  const res = await client.postRoute({ amount: 99999 }, { idempotencyKey: key });
  assertProblem(res, 422, "idempotency-key-reused");
  assert.ok(res.problem.detail.includes(key), res.problem.detail);
});

test("409 idempotency-key-in-flight: concurrent requests with one key publish one event", async () => {
  const client = cookieClient(api.token({ sub: "user-concurrent" }));
  const key = newIdempotencyKey();
  const results = await Promise.all(Array.from({ length: 6 }, () => client.postRoute({ n: 6 }, { idempotencyKey: key })));
  const ids = new Set();
  for (const res of results) {
    if (res.ok) {
      assertSuccess(res);
      ids.add(res.data.eventId);
    } else {
      assertProblem(res, 409, "idempotency-key-in-flight");
    }
  }
  assert.equal(ids.size, 1, `2xx answers with ${ids.size} event ids`);
  const [id] = ids;
  const events = await inngest.waitEvent(EVENT, id);
  assert.equal(events.length, 1);
});

test("400 invalid-request: a malformed Idempotency-Key", async () => {
  const res = await cookieClient().postRoute("data", { idempotencyKey: "has spaces" });
  assertProblem(res, 400, "invalid-request");
});

test("401 unauthenticated: no session, and a tampered one", async () => {
  const none = await createRouteClient({ baseUrl: api.url }).postRoute("data");
  assertProblem(none, 401, "unauthenticated");
  assert.match(none.response.headers.get("www-authenticate"), /^Bearer/);

  const token = api.token();
  const tampered = token.slice(0, -4) + (token.endsWith("AAAA") ? "BBBB" : "AAAA");
  const bad = await cookieClient(tampered).postRoute("data");
  assertProblem(bad, 401, "unauthenticated");
});

test("403 cross-origin: a browser request from another site", async () => {
  const res = await cookieClient().postRoute("data", {
    headers: { origin: "https://evil.example", "sec-fetch-site": "cross-site" },
  });
  assertProblem(res, 403, "cross-origin");
});

test("413 payload-too-large: data over route.maxBodyBytes", async () => {
  const res = await cookieClient().postRoute("x".repeat(300 * 1024));
  assertProblem(res, 413, "payload-too-large");
});

test("415 unsupported-media-type: a body that is not application/json", async () => {
  const res = await cookieClient().postRoute("data", { headers: { "content-type": "text/plain" } });
  assertProblem(res, 415, "unsupported-media-type");
});

test("503 route-disabled, with Retry-After", async () => {
  const off = await startRouteAPI({ inngestURL: inngest.url, settings: settingsYAML({ enabled: false }) });
  try {
    const res = await createRouteClient({ baseUrl: off.url, headers: { cookie: `next-auth.session-token=${off.token()}` } }).postRoute("data");
    assertProblem(res, 503, "route-disabled");
  } finally {
    await off.stop();
  }
});

test("202 queued when Inngest is unreachable; 503 spool-full once the spool is full", async () => {
  // A port that was free a moment ago: Node's net cannot hold a port bound
  // without listening (the Go e2e tests do, with testkit/deadaddr).
  const closed = `http://127.0.0.1:${await freePort()}`;
  const down = await startRouteAPI({ inngestURL: closed, env: { ROUTEAPI_PUBLISH_TIMEOUT: "500ms", ROUTEAPI_SPOOL_MAX_EVENTS: "1" } });
  try {
    const client = createRouteClient({ baseUrl: down.url, headers: { cookie: `next-auth.session-token=${down.token()}` } });
    const queued = await client.postRoute("data", { idempotencyKey: newIdempotencyKey() });
    assert.equal(queued.ok, true, `expected 202, got ${queued.status}: ${JSON.stringify(queued.problem)}`);
    assert.equal(queued.status, 202);
    assert.equal(queued.data.success, "true");
    assert.equal(queued.data.queued, true);
    assert.deepEqual(queued.data.ids, []);
    assert.match(queued.data.eventId, /^\S+$/);

    const full = await client.postRoute("data", { idempotencyKey: newIdempotencyKey() });
    assertProblem(full, 503, "spool-full");
  } finally {
    await down.stop();
  }
});

test("429 rate-limited: the request over route.rateLimit, with Retry-After and RateLimit headers", async () => {
  const limited = await startRouteAPI({ inngestURL: inngest.url, settings: settingsYAML({ rateLimit: { requests: 2, per: "1m" } }) });
  try {
    const client = createRouteClient({ baseUrl: limited.url, headers: { cookie: `next-auth.session-token=${limited.token()}` } });
    for (let i = 0; i < 2; i++) {
      const res = await client.postRoute(i);
      assertSuccess(res);
      assert.equal(res.response.headers.get("ratelimit-limit"), "2");
      assert.equal(res.response.headers.get("ratelimit-remaining"), String(1 - i));
    }
    const res = await client.postRoute(3);
    assertProblem(res, 429, "rate-limited");
    assert.equal(res.response.headers.get("ratelimit-limit"), "2");
    assert.equal(res.response.headers.get("ratelimit-remaining"), "0");
    assert.match(res.response.headers.get("ratelimit-reset") ?? "", /^\d+$/);
  } finally {
    await limited.stop();
  }
});

// sendEvents (POST /api/events): typed catalogue events.
const ORDER = "shop/order.placed";
const FEEDBACK = "app/feedback.submitted";

function typedBatch(tag) {
  return [
    {
      name: ORDER,
      data: {
        orderId: `ord_${tag}`,
        currency: "EUR",
        total: 59.8,
        placedAt: "2026-11-30T21:04:05Z",
        items: [{ sku: "mug-blue", quantity: 2, unitPrice: 29.9 }],
        coupon: "WINTER10",
      },
    },
    { name: FEEDBACK, data: { rating: 4, comment: "Checkout was quick.", email: "ada@example.com", page: { path: "/checkout", title: "Checkout" }, tags: ["praise", "idea"] } },
    { name: ORDER, data: { orderId: `ord_${tag}b`, currency: "USD", total: 0, items: [{ sku: "sticker", quantity: 999, unitPrice: 0 }] } },
  ];
}

function assertBatchSuccess(res, n) {
  assert.equal(res.ok, true, `expected 200, got ${res.status}: ${JSON.stringify(res.problem)}`);
  assert.equal(res.status, 200);
  assert.equal(res.data.success, "true");
  assert.equal(res.data.eventIds.length, n);
  for (const id of res.data.eventIds) assert.match(id, /^\S+$/);
  assert.equal(new Set(res.data.eventIds).size, n);
  assert.match(res.requestId, /^[\x21-\x7e]{1,128}$/);
}

test("sendEvents: a typed batch gets 200 with an id per event; Inngest received each event's data unchanged, in the envelope", async () => {
  const token = api.token({ sub: "user-batch", email: "batch@example.com", name: "Batch User" });
  const events = typedBatch("batch1");
  const res = await cookieClient(token).sendEvents(events);
  assertBatchSuccess(res, events.length);
  for (const [i, sent] of events.entries()) {
    const [got] = await inngest.waitEvent(sent.name, res.data.eventIds[i]);
    /** @type {import("../dist/index.js").CatalogueEventData} */
    const data = got.data;
    assert.deepEqual(data.data, sent.data, `event ${i}`);
    assert.deepEqual(data.user, { id: "user-batch", email: "batch@example.com", name: "Batch User" });
    assert.deepEqual(data.settings, { appName: "node-tests" });
    assert.equal(data.requestId, res.requestId);
  }
});

test("sendEvents: the same key gives the first answer again, other events with it 422", async () => {
  const client = cookieClient(api.token({ sub: "user-batch-retry" }));
  const key = newIdempotencyKey();
  const events = typedBatch("retry1");
  const first = await client.sendEvents(events, { idempotencyKey: key });
  const retry = await client.sendEvents(events, { idempotencyKey: key });
  assertBatchSuccess(first, events.length);
  assertBatchSuccess(retry, events.length);
  assert.deepEqual(retry.data.eventIds, first.data.eventIds);
  // The retry published nothing again: one event per id in Inngest.
  for (const [i, sent] of events.entries()) {
    assert.equal((await inngest.waitEvent(sent.name, first.data.eventIds[i])).length, 1);
  }
  const other = await client.sendEvents(typedBatch("retry2"), { idempotencyKey: key });
  assertProblem(other, 422, "idempotency-key-reused");
});

test("sendEvents: 400 invalid-request for what the types let through, with a pointer into the event", async () => {
  const client = cookieClient();
  // Bounds, patterns and formats are not in the types: routeapi checks them.
  const outOfBounds = typedBatch("bounds1");
  outOfBounds[1] = { name: FEEDBACK, data: { rating: 9, page: { path: "/checkout" } } };
  const bounds = await client.sendEvents(outOfBounds);
  assertProblem(bounds, 400, "invalid-request");
  assert.deepEqual(bounds.problem.errors.map((e) => e.pointer), ["/events/1/data/rating"]);

  // Casting past the types: a name the catalogue does not have.
  const unknown = await client.sendEvents(/** @type {any} */ ([typedBatch("name1")[0], { name: "shop/order.cancelled", data: { orderId: "ord_1" } }]));
  assertProblem(unknown, 400, "invalid-request");
  assert.ok(unknown.problem.errors.some((e) => e.pointer === "/events/1/name"), JSON.stringify(unknown.problem.errors));
  assert.ok(unknown.problem.errors.every((e) => e.pointer.startsWith("/events/1")), JSON.stringify(unknown.problem.errors));

  // A data of another event's shape, and a required member missing.
  const shape = await client.sendEvents(/** @type {any} */ ([{ name: ORDER, data: { rating: 4, page: { path: "/" } } }]));
  assertProblem(shape, 400, "invalid-request");
  assert.ok(shape.problem.errors.length > 0 && shape.problem.errors.every((e) => e.pointer.startsWith("/events/0/data")), JSON.stringify(shape.problem.errors));

  // No events at all.
  const empty = await client.sendEvents([]);
  assertProblem(empty, 400, "invalid-request");
});

test("sendEvents: 403 event-disabled names each disabled event; nothing else changes for the route", async () => {
  const off = await startRouteAPI({ inngestURL: inngest.url, settings: settingsYAML({ disabledEvents: [FEEDBACK] }) });
  try {
    const client = createRouteClient({ baseUrl: off.url, headers: { cookie: `next-auth.session-token=${off.token()}` } });
    const res = await client.sendEvents(typedBatch("disabled1").concat([{ name: FEEDBACK, data: { rating: 1, page: { path: "/" } } }]));
    assertProblem(res, 403, "event-disabled");
    assert.deepEqual(res.problem.errors.map((e) => e.pointer), ["/events/1/name", "/events/3/name"]);
    const ok = await client.sendEvents([typedBatch("disabled2")[0]]);
    assertBatchSuccess(ok, 1);
  } finally {
    await off.stop();
  }
});

test("sendEvents: 202 queued when Inngest is unreachable, an id per event", async () => {
  const closed = `http://127.0.0.1:${await freePort()}`;
  const down = await startRouteAPI({ inngestURL: closed, env: { ROUTEAPI_PUBLISH_TIMEOUT: "500ms" } });
  try {
    const client = createRouteClient({ baseUrl: down.url, headers: { cookie: `next-auth.session-token=${down.token()}` } });
    const events = typedBatch("queued1");
    const res = await client.sendEvents(events, { idempotencyKey: newIdempotencyKey() });
    assert.equal(res.ok, true, `expected 202, got ${res.status}: ${JSON.stringify(res.problem)}`);
    assert.equal(res.status, 202);
    assert.equal(res.data.queued, true);
    assert.deepEqual(res.data.ids, []);
    assert.equal(res.data.eventIds.length, events.length);
  } finally {
    await down.stop();
  }
});
