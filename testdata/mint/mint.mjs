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
//   kind "v5": @auth/core's encode (A256CBC-HS512, kid), salt = cookie name;
//   "v5-gcm" / "v5-nokid": keys from @auth/core's hkdf, encrypted with its
//   jose 6 (enc A256GCM with kid / A256CBC-HS512 without kid). v5 cases take
//   "secrets" (array, [0] encodes), "decodeSecrets" and optional "salt".
//   kind "decode-v5" is "decode" with @auth/core's decode (salt = cookie name).
// CLI mode (humans, e2e): prints one Cookie header line for one token.
//   node mint.mjs --secret S --sub u1 --email a@b.c [--name N] [--max-age 3600] [--secure] [--v5]
// On error the script prints a message to stderr and exits 1.

import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

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

// Auth.js v5: @auth/core's own jwt encode/decode and cookie chunker, its own
// jose 6 and @panva/hkdf. lib/utils/cookie.js is not in @auth/core's exports
// map, so it is imported by path, as @auth/core itself loads it.
const PINNED_AUTH_CORE = "0.41.3";
const authJwtPath = fileURLToPath(import.meta.resolve("@auth/core/jwt"));
const authDir = dirname(authJwtPath);
const v5 = await import("@auth/core/jwt");
const v5Cookie = await import(pathToFileURL(join(authDir, "lib/utils/cookie.js")).href);
const fromAuth = createRequire(authJwtPath);
const jose6 = await import(pathToFileURL(fromAuth.resolve("jose")).href);
const { hkdf } = await import(pathToFileURL(fromAuth.resolve("@panva/hkdf")).href);
versions["@auth/core"] = fromAuth("./package.json").version;
versions["jose (@auth/core)"] = JSON.parse(
  (await import("node:fs")).readFileSync(join(dirname(fromAuth.resolve("jose")), "../../package.json"), "utf8"),
).version;
if (versions["@auth/core"] !== PINNED_AUTH_CORE) {
  fail(`expected @auth/core ${PINNED_AUTH_CORE}, found ${versions["@auth/core"]}; run npm ci`);
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

// The same for Auth.js v5 (@auth/core lib/init.js uses defaultCookies + SessionStore).
function sessionCookiesV5(token, secure) {
  const opt = v5Cookie.defaultCookies(secure).sessionToken;
  const store = new v5Cookie.SessionStore(opt, {}, { debug() {} });
  return store.chunk(token, {}).map(({ name, value }) => ({ name, value }));
}

// A v5 token @auth/core's encode cannot make but its decode accepts: the key
// derived by @auth/core's own hkdf with the cookie-name salt, encrypted with
// jose 6 (the version @auth/core uses). enc "A256GCM" (kid = SHA-256
// thumbprint) or "A256CBC-HS512" without a kid.
async function encodeV5Custom({ claims, secret, salt, maxAge, enc, withKid }) {
  const len = enc === "A256GCM" ? 32 : 64;
  const key = await hkdf("sha256", secret, salt, `Auth.js Generated Encryption Key (${salt})`, len);
  const header = { alg: "dir", enc };
  if (withKid) {
    header.kid = await jose6.calculateJwkThumbprint({ kty: "oct", k: jose6.base64url.encode(key) }, `sha${len << 3}`);
  }
  const t = now();
  return new jose6.EncryptJWT(claims).setProtectedHeader(header).setIssuedAt(t)
    .setExpirationTime(t + maxAge).setJti(randomUUID()).encrypt(key);
}

async function mintCase(c, i) {
  const where = `case ${i} (${c?.name ?? "unnamed"})`;
  if (typeof c?.name !== "string" || !c.name) throw new Error(`${where}: "name" must be a non-empty string`);
  if ((typeof c.secret !== "string" || !c.secret) && !(Array.isArray(c.secrets) && c.secrets.length)) {
    throw new Error(`${where}: "secret" (or "secrets") must be non-empty`);
  }
  const kind = c.kind ?? "v4";
  const maxAge = c.maxAge ?? DEFAULT_MAX_AGE;
  if (!Number.isInteger(maxAge)) throw new Error(`${where}: "maxAge" must be an integer (seconds)`);
  const claims = { ...(c.claims ?? {}) };
  if (c.padBytes > 0) claims.pad = "x".repeat(c.padBytes);

  const isV5 = kind.startsWith("v5") || kind === "decode-v5";
  const secure = c.secureCookie === true;
  // v5: the HKDF salt is the cookie name (or an explicit "salt", to mint a mismatch).
  const salt = c.salt ?? v5Cookie.defaultCookies(secure).sessionToken.name;
  const secrets = Array.isArray(c.secrets) && c.secrets.length ? c.secrets : [c.secret];

  let token;
  if (kind === "v5") {
    // @auth/core's encode: A256CBC-HS512 with kid, using secrets[0].
    token = await v5.encode({ token: claims, secret: secrets, salt, maxAge });
  } else if (kind === "v5-gcm") {
    token = await encodeV5Custom({ claims, secret: secrets[0], salt, maxAge, enc: "A256GCM", withKid: true });
  } else if (kind === "v5-nokid") {
    token = await encodeV5Custom({ claims, secret: secrets[0], salt, maxAge, enc: "A256CBC-HS512", withKid: false });
  } else if (kind === "decode" || kind === "decode-v5") {
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

  const cookies = isV5 ? sessionCookiesV5(token, secure) : sessionCookies(token, secure);
  // What the library's own decode() makes of it (15 s clock tolerance). null on failure.
  // v5: @auth/core's decode with decodeSecrets (default: secrets) and the cookie-name salt.
  let decoded = null, decodeError = null;
  try {
    if (isV5) {
      const ds = Array.isArray(c.decodeSecrets) && c.decodeSecrets.length ? c.decodeSecrets : secrets;
      decoded = await v5.decode({ token, secret: ds, salt: v5Cookie.defaultCookies(secure).sessionToken.name });
    } else {
      decoded = await decode({ token, secret: c.decodeSecret ?? c.secret });
    }
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
      v5: { type: "boolean" },
    },
  });
  if (!a.secret || !a.sub) fail("usage: node mint.mjs --secret S --sub u1 --email a@b.c [--name N] [--max-age 3600] [--secure]");
  const maxAge = a["max-age"] === undefined ? DEFAULT_MAX_AGE : Number(a["max-age"]);
  const claims = { sub: a.sub, email: a.email, name: a.name }; // undefined values are dropped, as in next-auth
  const kind = a.v5 ? "v5" : "v4";
  const out = await mintCase({ name: "cli", kind, secret: a.secret, claims, maxAge, secureCookie: a.secure }, 0);
  process.stdout.write(`Cookie: ${out.cookieHeader}\n`);
}

(process.argv.length > 2 ? cliMode() : jsonMode()).catch((e) => fail(e.message));
