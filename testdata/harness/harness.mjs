// Test harness for the Node tests (the TypeScript client tests and the
// Swagger UI browser test): starts the built routeapi binary and a real
// Inngest dev server on free loopback ports, as e2e/harness_test.go does for
// the Go tests. ROUTEAPI_BIN and INNGEST_BIN name the binaries (the Makefile
// sets them); without them the tests fail, they never skip.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";

export function binary(name) {
  const p = process.env[name];
  if (!p) throw new Error(`${name} is not set: run these tests through make (make test-client, make test-browser)`);
  if (!existsSync(p)) throw new Error(`${name}=${p} does not exist (make builds it)`);
  return p;
}

/** A loopback address with a port that was free a moment ago. */
export async function freePort() {
  const srv = createServer();
  await new Promise((resolve, reject) => srv.listen(0, "127.0.0.1", resolve).on("error", reject));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** Polls ok every 50 ms until it returns true or timeoutMs passes. */
export async function waitFor(what, timeoutMs, ok) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ok()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(50);
  }
}

class Child {
  constructor(name, bin, args, opts) {
    this.name = name;
    this.logs = "";
    this.exited = false;
    this.proc = spawn(bin, args, { ...opts, stdio: ["ignore", "pipe", "pipe"] });
    const keep = (b) => { this.logs = (this.logs + b).slice(-64 * 1024); };
    this.proc.stdout.on("data", keep);
    this.proc.stderr.on("data", keep);
    this.done = new Promise((resolve) => this.proc.on("exit", (code, signal) => {
      this.exited = true;
      resolve({ code, signal });
    }));
  }

  /** Polls url until it answers 200; fails when the process exits first. */
  async waitReady(url, timeoutMs) {
    await waitFor(`${this.name} to answer ${url}`, timeoutMs, async () => {
      if (this.exited) throw new Error(`${this.name} exited:\n${this.logs}`);
      try {
        const res = await fetch(url);
        await res.arrayBuffer();
        return res.status === 200;
      } catch {
        return false;
      }
    });
  }

  /** SIGTERM, then SIGKILL after 10 s; resolves once the process is gone. */
  async stop() {
    if (this.exited) return;
    this.proc.kill("SIGTERM");
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), 10_000);
    await this.done;
    clearTimeout(timer);
  }
}

/** A real Inngest dev server in an empty temp directory and HOME. */
export async function startInngest() {
  const bin = binary("INNGEST_BIN");
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "routeapi-inngest-"));
  // Its own working directory and HOME: it reads inngest.* config files
  // upwards from its directory and writes ~/.config/inngest/state.
  const child = new Child("inngest dev", bin,
    ["dev", "--no-discovery", "--no-poll", "--host", "127.0.0.1", "-p", String(port)],
    { cwd: dir, env: { HOME: dir, PATH: process.env.PATH } });
  const url = `http://127.0.0.1:${port}`;
  const inngest = {
    url,
    child,
    /** Events named name that the dev server received, newest first. */
    async events(name) {
      const res = await fetch(`${url}/v1/events?limit=50&name=${encodeURIComponent(name)}`);
      if (res.status !== 200) throw new Error(`list events: HTTP ${res.status}`);
      return (await res.json()).data ?? [];
    },
    /** Waits until the dev server lists an event named name with id. */
    async waitEvent(name, id, count = 1) {
      let found = [];
      await waitFor(`${count} event(s) ${name} with id ${id}`, 15_000, async () => {
        found = (await inngest.events(name)).filter((e) => e.id === id);
        return found.length >= count;
      });
      return found;
    },
    async stop() {
      await child.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await child.waitReady(`${url}/health`, 60_000);
  } catch (err) {
    await inngest.stop();
    throw err;
  }
  return inngest;
}

// settingsYAML writes a settings file with the Inngest dev server's event
// size limit (3 MiB), under which maxBodyBytes fits.
export function settingsYAML({ event = "app/route.requested", enabled = true, maxBodyBytes = 262144, rateLimit } = {}) {
  const limit = rateLimit ? `  rateLimit: {requests: ${rateLimit.requests}, per: ${rateLimit.per}}\n` : "";
  return `inngest:\n  maxEventBytes: 3145728\nroute:\n  enabled: ${enabled}\n  event: ${event}\n  maxBodyBytes: ${maxBodyBytes}\n${limit}public:\n  appName: node-tests\n`;
}

/**
 * The built routeapi on a free loopback port, with its own settings file and
 * a random NEXTAUTH_SECRET, publishing to inngestURL. env is added last.
 */
export async function startRouteAPI({ inngestURL, settings = settingsYAML(), env = {} }) {
  const bin = binary("ROUTEAPI_BIN");
  const dir = mkdtempSync(join(tmpdir(), "routeapi-node-"));
  const settingsPath = join(dir, "settings.yaml");
  writeFileSync(settingsPath, settings);
  const port = await freePort();
  const secret = `node-test-secret-${randomBytes(16).toString("hex")}`;
  const vars = {
    PATH: process.env.PATH,
    HOME: dir,
    ROUTEAPI_ADDR: `127.0.0.1:${port}`,
    ROUTEAPI_SETTINGS: settingsPath,
    NEXTAUTH_SECRET: secret,
    INNGEST_DEV: "1",
    INNGEST_BASE_URL: inngestURL,
    ...env,
  };
  const child = new Child("routeapi", bin, ["serve"], { cwd: dir, env: vars });
  const url = `http://127.0.0.1:${port}`;
  const api = {
    url,
    child,
    settingsPath,
    /**
     * A session token for this server's secret, minted by `routeapi token`
     * (the same next-auth v4 JWE the Next.js app issues; e2e/ checks the
     * decoding against tokens minted by next-auth itself).
     */
    token({ sub = "client-user", email = "client@example.com", name = "Client User", ttl = "1h" } = {}) {
      return execFileSync(bin, ["token", "--raw", "--sub", sub, "--email", email, "--name", name, "--ttl", ttl],
        { env: { PATH: process.env.PATH, NEXTAUTH_SECRET: secret }, encoding: "utf8" }).trim();
    },
    async stop() {
      await child.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await child.waitReady(`${url}/healthz`, 20_000);
  } catch (err) {
    await api.stop();
    throw err;
  }
  return api;
}
