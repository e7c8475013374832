#!/usr/bin/env node
// mint.mjs: mints next-auth v4 session tokens and cookies for the Go tests.
//
// The tokens come from the REAL next-auth package (encode/decode from
// next-auth/jwt, and the SessionStore cookie chunker that next-auth uses when
// it sets the session cookie). No encoder is written by hand here, so the Go
// decoder is checked against the library itself. The versions are pinned on
// purpose (next-auth 4.24.15, with the jose 4.x it depends on, locked in
// package-lock.json). The script refuses to run with any other next-auth
// version. To upgrade, change package.json, run `npm install`, and regenerate
// the vectors.
//
// JSON mode (Go tests): one request on stdin, one response on stdout.
//   {"cases":[{"name":"plain","secret":"s3cret","claims":{"sub":"u1"},
//              "maxAge":3600,"secureCookie":false,"padBytes":0,"kind":"v4",
//              "decodeSecret":"optional, defaults to secret"}]}
//   kind: "v4" (default) | "alg-none-jwt" | "jwe-alg-none" | "decode"
//   kind "decode" mints nothing: it takes the case's "token" (e.g. one minted
//   in Go) and reports what next-auth's decode makes of it with "secret".
// CLI mode (humans, e2e): prints one Cookie header line for one v4 token.
//   node mint.mjs --secret S --sub u1 --email a@b.c [--name N] [--max-age 3600] [--secure]
// On error the script prints a message to stderr and exits 1.

import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";

const PINNED_NEXT_AUTH = "4.24.15";

// next-auth is CommonJS, and its "exports" map hides core/lib/cookie.js. We
// load everything through a require() anchored in next-auth/jwt, so "jose" and
// "../core/lib/cookie" resolve to the same modules next-auth itself uses.
const require = createRequire(import.meta.url);
const fromJwt = createRequire(require.resolve("next-auth/jwt"));
const { encode, decode } = fromJwt("./index.js");
const { SessionStore, defaultCookies } = fromJwt("../core/lib/cookie");
const { UnsecuredJWT, base64url } = fromJwt("jose");
const versions = {
  "next-auth": fromJwt("../package.json").version,
  jose: fromJwt("jose/package.json").version,
};
if (versions["next-auth"] !== PINNED_NEXT_AUTH) {
  fail(`expected next-auth ${PINNED_NEXT_AUTH}, found ${versions["next-auth"]}; run npm ci`);
}

const DEFAULT_MAX_AGE = 30 * 24 * 60 * 60; // next-auth's default
const now = () => Math.floor(Date.now() / 1000);

function fail(msg) {
  process.stderr.write(`mint: ${msg}\n`);
  process.exit(1);
}

// The cookies next-auth would set for this token: one cookie, or <name>.0, .1, ...
function sessionCookies(token, secure) {
  const opt = defaultCookies(secure).sessionToken; // what core/init.js uses
  const store = new SessionStore(opt, { cookies: {} }, { debug() {} });
  return store.chunk(token, {}).map(({ name, value }) => ({ name, value }));
}

async function mintCase(c, i) {
  const where = `case ${i} (${c?.name ?? "unnamed"})`;
  if (typeof c?.name !== "string" || !c.name) throw new Error(`${where}: "name" must be a non-empty string`);
  if (typeof c.secret !== "string" || !c.secret) throw new Error(`${where}: "secret" must be a non-empty string`);
  const kind = c.kind ?? "v4";
  const maxAge = c.maxAge ?? DEFAULT_MAX_AGE;
  if (!Number.isInteger(maxAge)) throw new Error(`${where}: "maxAge" must be an integer (seconds)`);
  const claims = { ...(c.claims ?? {}) };
  if (c.padBytes > 0) claims.pad = "x".repeat(c.padBytes);

  let token;
  if (kind === "decode") {
    // No minting: check a token made elsewhere (e.g. by Go) with next-auth's decode.
    if (typeof c.token !== "string" || !c.token) throw new Error(`${where}: kind "decode" needs a non-empty "token"`);
    token = c.token;
  } else if (kind === "v4") {
    // encode() sets exp = now + maxAge; a negative maxAge gives an expired token.
    token = await encode({ token: claims, secret: c.secret, maxAge });
  } else if (kind === "alg-none-jwt") {
    // Same claims shape as a real token, but an unsigned, unencrypted JWT.
    token = new UnsecuredJWT(claims).setIssuedAt().setExpirationTime(now() + maxAge)
      .setJti(randomUUID()).encode();
  } else if (kind === "jwe-alg-none") {
    // A real v4 token with its protected header swapped for alg "none".
    const real = await encode({ token: claims, secret: c.secret, maxAge });
    const header = base64url.encode(JSON.stringify({ alg: "none", enc: "A256GCM" }));
    token = [header, ...real.split(".").slice(1)].join(".");
  } else {
    throw new Error(`${where}: unknown kind ${JSON.stringify(kind)}`);
  }

  const cookies = sessionCookies(token, c.secureCookie === true);
  // What next-auth's own decode() makes of it (15 s clock tolerance). null on failure.
  let decoded = null, decodeError = null;
  try {
    decoded = await decode({ token, secret: c.decodeSecret ?? c.secret });
  } catch (e) {
    decodeError = `${e.code ?? e.name}: ${e.message}`;
  }
  return {
    name: c.name,
    kind,
    token,
    cookies,
    cookieHeader: cookies.map((k) => `${k.name}=${k.value}`).join("; "),
    claims: decoded,
    decodeError,
  };
}

async function readStdin() {
  let data = "";
  for await (const chunk of process.stdin) data += chunk;
  return data;
}

async function jsonMode() {
  let req;
  try {
    req = JSON.parse(await readStdin());
  } catch (e) {
    fail(`stdin is not valid JSON: ${e.message}`);
  }
  if (!Array.isArray(req?.cases)) fail('request must be {"cases":[...]}');
  const cases = [];
  for (const [i, c] of req.cases.entries()) cases.push(await mintCase(c, i));
  process.stdout.write(JSON.stringify({ versions, cases }) + "\n");
}

async function cliMode() {
  const { values: a } = parseArgs({
    options: {
      secret: { type: "string" }, sub: { type: "string" }, email: { type: "string" },
      name: { type: "string" }, "max-age": { type: "string" }, secure: { type: "boolean" },
    },
  });
  if (!a.secret || !a.sub) fail("usage: node mint.mjs --secret S --sub u1 --email a@b.c [--name N] [--max-age 3600] [--secure]");
  const maxAge = a["max-age"] === undefined ? DEFAULT_MAX_AGE : Number(a["max-age"]);
  const claims = { sub: a.sub, email: a.email, name: a.name }; // undefined values are dropped, as in next-auth
  const out = await mintCase({ name: "cli", secret: a.secret, claims, maxAge, secureCookie: a.secure }, 0);
  process.stdout.write(`Cookie: ${out.cookieHeader}\n`);
}

(process.argv.length > 2 ? cliMode() : jsonMode()).catch((e) => fail(e.message));
