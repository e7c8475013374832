// A real Next.js 16 app (this directory: next build, then next start on
// 127.0.0.1) in front of the built routeapi and a real Inngest dev server
// (testdata/harness). Run by `make test-nextjs`. It checks two things the
// README says about apps:
// - which rewrites of /api/route reach routeapi while the app's old route
//   file still exists ("For front-end teams"; the client README), and that
//   the second beforeFiles entry "Typed events" asks for brings a typed
//   batch to POST /api/events;
// - an Auth.js v5 secret rotation: next-auth 5 reads AUTH_SECRET but not
//   AUTH_SECRET_1, so the app needs `secret: [new, old]` ("Sessions").
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { encode } from "@auth/core/jwt";
import { startInngest, startRouteAPI, freePort, waitFor } from "../harness/harness.mjs";

const dir = dirname(fileURLToPath(import.meta.url));
const nextBin = join(dir, "node_modules", "next", "dist", "bin", "next");
const EVENT = "app/route.requested";
// The rotation: the app and routeapi both get the new AUTH_SECRET and the old
// one as AUTH_SECRET_1.
const NEW_SECRET = "rotation-new-secret-0123456789abcdef0123456789";
const OLD_SECRET = "rotation-old-secret-0123456789abcdef0123456789";
const rotationEnv = { AUTH_SECRET: NEW_SECRET, AUTH_SECRET_1: OLD_SECRET };

let inngest;
let api;
let next;
let appURL;
let nextLogs = "";

// run runs `next <args>` in this directory; resolves with its exit code.
function runNext(args, env, timeoutMs) {
  const proc = spawn(process.execPath, [nextBin, ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NEXT_TELEMETRY_DISABLED: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const keep = (b) => { nextLogs = (nextLogs + b).slice(-64 * 1024); };
  proc.stdout.on("data", keep);
  proc.stderr.on("data", keep);
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  proc.done = new Promise((resolve) => proc.on("exit", (code, signal) => {
    clearTimeout(timer);
    proc.exited = true;
    resolve(code ?? signal);
  }));
  return proc;
}

before(async () => {
  inngest = await startInngest();
  api = await startRouteAPI({ inngestURL: inngest.url, env: rotationEnv });
  // rewrites() is evaluated at build time: ROUTEAPI_URL must be set for next build.
  rmSync(join(dir, ".next"), { recursive: true, force: true });
  const code = await runNext(["build"], { ROUTEAPI_URL: api.url }, 600_000).done;
  assert.equal(code, 0, `next build failed:\n${nextLogs}`);
  // A port that was free a moment ago, for `next start -p` (this test does
  // not read back a port Next.js picked itself); if another process takes it
  // first, next start exits and the wait below fails on that.
  const port = await freePort();
  appURL = `http://127.0.0.1:${port}`;
  // AUTH_TRUST_HOST: next start runs with NODE_ENV=production, where Auth.js
  // trusts the Host header only when told to.
  next = runNext(["start", "-H", "127.0.0.1", "-p", String(port)],
    { ROUTEAPI_URL: api.url, AUTH_TRUST_HOST: "1", ...rotationEnv }, 600_000);
  await waitFor(`next start at ${appURL}`, 60_000, async () => {
    if (next.exited) throw new Error(`next start exited:\n${nextLogs}`);
    try {
      const res = await fetch(`${appURL}/api/after`, { method: "POST" });
      await res.arrayBuffer();
      return res.status === 200;
    } catch {
      return false;
    }
  });
});

after(async () => {
  if (next && !next.exited) {
    next.kill("SIGTERM");
    await next.done;
  }
  await api?.stop();
  await inngest?.stop();
});

// post sends what a browser page of the app sends to its own origin: the
// session cookie, and the Origin and Sec-Fetch-Site of a same-origin fetch.
async function post(path, { cookie = true } = {}) {
  const headers = {
    "content-type": "application/json",
    origin: appURL,
    "sec-fetch-site": "same-origin",
  };
  if (cookie) headers.cookie = `next-auth.session-token=${api.token({ sub: "next-user" })}`;
  const res = await fetch(`${appURL}${path}`, { method: "POST", headers, body: JSON.stringify({ data: { path } }) });
  return { res, body: await res.json() };
}

// assertRouteAPI checks the answer is routeapi's and Inngest got the event.
async function assertRouteAPI({ res, body }, path) {
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(res.headers.get("x-answered-by"), null);
  assert.match(res.headers.get("x-request-id") ?? "", /^[\x21-\x7e]{1,128}$/);
  assert.equal(body.success, "true");
  assert.equal(body.ids.length, 1);
  const [event] = await inngest.waitEvent(EVENT, body.eventId);
  assert.deepEqual(event.data.data, { path });
  assert.equal(event.data.user.id, "next-user");
}

test("a beforeFiles rewrite reaches routeapi although app/api/route/route.js exists", async () => {
  await assertRouteAPI(await post("/api/route"), "/api/route");
});

test("through the beforeFiles rewrite, a request without a session gets routeapi's 401 problem", async () => {
  const { res, body } = await post("/api/route", { cookie: false });
  assert.equal(res.status, 401);
  assert.match(res.headers.get("content-type"), /^application\/problem\+json/);
  assert.equal(body.type, "urn:routeapi:problem:unauthenticated");
});

test("an afterFiles (plain array) rewrite over an existing route file: the old route answers", async () => {
  const { res, body } = await post("/api/after");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-answered-by"), "old-route");
  assert.deepEqual(body, { success: "true" });
  assert.equal(res.headers.get("x-request-id"), null);
});

test("an afterFiles (plain array) rewrite of a path without a route file reaches routeapi", async () => {
  await assertRouteAPI(await post("/api/gone"), "/api/gone");
});

test("a beforeFiles rewrite of /api/events reaches routeapi: a typed batch from the app's page is published for its user", async () => {
  const events = [
    { name: "shop/order.placed", data: { orderId: "ord_next1", currency: "EUR", total: 1.5, items: [{ sku: "mug", quantity: 1, unitPrice: 1.5 }] } },
    { name: "app/feedback.submitted", data: { rating: 4, page: { path: "/checkout" } } },
  ];
  const res = await fetch(`${appURL}/api/events`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      origin: appURL,
      "sec-fetch-site": "same-origin",
      cookie: `next-auth.session-token=${api.token({ sub: "next-events-user" })}`,
    },
    body: JSON.stringify({ events }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.match(res.headers.get("x-request-id") ?? "", /^[\x21-\x7e]{1,128}$/);
  assert.equal(body.eventIds.length, 2);
  for (const [i, ev] of events.entries()) {
    const [event] = await inngest.waitEvent(ev.name, body.eventIds[i]);
    assert.deepEqual(event.data.data, ev.data);
    assert.equal(event.data.user.id, "next-events-user");
  }
});

// authjsCookie is an Auth.js v5 session cookie encrypted with secret, as
// @auth/core's encode writes it (with a kid), for the plain cookie name.
async function authjsCookie(secret, sub) {
  const token = await encode({ token: { sub, name: "Rotated User", email: "rotated@example.com" }, secret, salt: "authjs.session-token" });
  return `authjs.session-token=${token}`;
}

async function appSession(path, cookie) {
  const res = await fetch(`${appURL}${path}`, { headers: { cookie } });
  assert.equal(res.status, 200);
  return (await res.json()).session;
}

async function routeapiUser(cookie) {
  const res = await fetch(`${appURL}/api/route`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: appURL, "sec-fetch-site": "same-origin", cookie },
    body: JSON.stringify({ data: "rotation" }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  const [event] = await inngest.waitEvent(EVENT, body.eventId);
  return event.data.user.id;
}

test("rotation: a session from the old secret: next-auth 5 with only the environment signs the user out", async () => {
  const cookie = await authjsCookie(OLD_SECRET, "user-old");
  assert.equal(await appSession("/api/session-env", cookie), null);
  // ...while routeapi (AUTH_SECRET_1) still accepts it.
  assert.equal(await routeapiUser(cookie), "user-old");
});

test("rotation: with secret: [new, old] the app keeps the old secret's session, as routeapi does", async () => {
  const cookie = await authjsCookie(OLD_SECRET, "user-old");
  const session = await appSession("/api/session-list", cookie);
  assert.equal(session?.user?.email, "rotated@example.com", JSON.stringify(session));
  assert.equal(await routeapiUser(cookie), "user-old");
});

test("rotation: a session from the new secret is read by both app configurations and routeapi", async () => {
  const cookie = await authjsCookie(NEW_SECRET, "user-new");
  assert.equal((await appSession("/api/session-env", cookie))?.user?.email, "rotated@example.com");
  assert.equal((await appSession("/api/session-list", cookie))?.user?.email, "rotated@example.com");
  assert.equal(await routeapiUser(cookie), "user-new");
});
