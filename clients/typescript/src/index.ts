// The typed routeapi client: a small wrapper around openapi-fetch, typed by
// schema.ts, which `make generate` writes from openapi.yaml. Edit this file;
// never edit schema.ts.
import createClient from "openapi-fetch";
import type { components, operations, paths } from "./schema.js";

export type { components, operations, paths } from "./schema.js";

/** The body of `POST /api/route`. */
export type RouteRequest = components["schemas"]["RouteRequest"];
/** What `data` accepts: any JSON value but null. */
export type RouteData = NonNullable<RouteRequest["data"]>;
/** The 200 answer of `POST /api/route`: Inngest accepted the event. */
export type RouteResponse = components["schemas"]["RouteResponse"];
/** The 202 answer of `POST /api/route`: Inngest was unavailable; the event is queued durably and will be delivered with its `eventId`. */
export type RouteQueuedResponse = components["schemas"]["RouteQueuedResponse"];
/** The event routeapi publishes to Inngest; type Inngest function handlers with it. */
export type RouteEvent = components["schemas"]["RouteEvent"];
/** `RouteEvent["data"]`: the request's data, the user, the public settings and the request id. */
export type RouteEventData = components["schemas"]["RouteEventData"];
/** The signed-in user, as the event carries it. */
export type User = components["schemas"]["User"];
/** An RFC 9457 problem document: every error routeapi answers. */
export type Problem = components["schemas"]["Problem"];
/** One field error of a 400 problem. */
export type FieldError = components["schemas"]["FieldError"];

export interface RouteClientOptions {
  /**
   * Where routeapi is, e.g. `http://127.0.0.1:3000` (server side) or `""`
   * with a same-origin proxy in the browser (relative URLs need a browser).
   */
  baseUrl: string;
  /** A fetch to use instead of `globalThis.fetch` (tests, instrumentation). */
  fetch?: (input: Request) => Promise<Response>;
  /** Headers sent with every request, e.g. `{ cookie }` forwarded from the incoming request. */
  headers?: Record<string, string>;
  /** `RequestInit.credentials`; the fetch default `same-origin` sends the session cookie to the same origin. */
  credentials?: RequestCredentials;
}

export interface PostRouteOptions {
  /**
   * Makes retries safe. Make one key per operation (`newIdempotencyKey()`)
   * and send it again only to retry that operation. For 24 hours the key
   * belongs to its first request: a retry with the same data gets the first
   * answer (same `eventId`, nothing published again); other data gets 422
   * `idempotency-key-reused`; a retry while the first is in flight gets 409
   * `idempotency-key-in-flight` (retry after `retryAfter` seconds).
   * 1 to 255 visible ASCII characters.
   */
  idempotencyKey?: string;
  /** Extra headers for this request only (they win over the client's). */
  headers?: Record<string, string>;
  /** Cancels the request. */
  signal?: AbortSignal;
}

type PostRouteResponses = operations["postRoute"]["responses"];
/** The success statuses of `POST /api/route` in the contract (today: 200 published, 202 queued). */
export type PostRouteSuccessStatus = Extract<keyof PostRouteResponses, 200 | 201 | 202 | 203 | 204 | 205 | 206>;
type SuccessBody<S extends PostRouteSuccessStatus> =
  PostRouteResponses[S] extends { content: { "application/json": infer B } } ? B : undefined;

/** A success answer, one variant per success status of the contract (200: Inngest accepted the event; 202: queued). */
export type PostRouteSuccess = {
  [S in PostRouteSuccessStatus]: {
    ok: true;
    status: S;
    data: SuccessBody<S>;
    /** The `X-Request-Id` of the answer. */
    requestId: string | null;
    response: Response;
  };
}[PostRouteSuccessStatus];

/** The error statuses of `POST /api/route` in the contract (e.g. 409 idempotency-key-in-flight, 422 idempotency-key-reused). */
export type PostRouteProblemStatus = Exclude<keyof PostRouteResponses, PostRouteSuccessStatus>;

/** routeapi (or something in front of it) refused the request. */
export interface PostRouteFailure {
  ok: false;
  status: number;
  problem: Problem;
  /** The `X-Request-Id` of the answer; quote it when reporting a problem. */
  requestId: string | null;
  /** Seconds from `Retry-After` (409, 429, 503), when present. */
  retryAfter: number | undefined;
  response: Response;
}

export type PostRouteResult = PostRouteSuccess | PostRouteFailure;

export interface RouteClient {
  /**
   * `POST /api/route`: publishes one event for the signed-in user. Resolves
   * to a success or a typed problem; rejects only when no HTTP answer came
   * (network error, abort).
   */
  postRoute(data: RouteData, options?: PostRouteOptions): Promise<PostRouteResult>;
  /** The underlying openapi-fetch client, typed by the whole contract. */
  raw: ReturnType<typeof createClient<paths>>;
}

export function createRouteClient(options: RouteClientOptions): RouteClient {
  const raw = createClient<paths>({
    baseUrl: options.baseUrl,
    fetch: options.fetch,
    headers: options.headers,
    credentials: options.credentials,
  });
  return {
    raw,
    async postRoute(data, { idempotencyKey, headers, signal } = {}) {
      const { data: body, error, response } = await raw.POST("/api/route", {
        body: { data },
        params: idempotencyKey === undefined ? {} : { header: { "Idempotency-Key": idempotencyKey } },
        headers,
        signal,
      });
      const requestId = response.headers.get("X-Request-Id");
      if (response.ok) {
        // openapi-fetch typed body as the union of the contract's success bodies.
        return { ok: true, status: response.status, data: body, requestId, response } as PostRouteSuccess;
      }
      return {
        ok: false,
        status: response.status,
        problem: toProblem(error, response),
        requestId,
        retryAfter: retryAfter(response),
        response,
      };
    },
  };
}

/**
 * A new Idempotency-Key: a random UUID, unique per operation. Keep it with
 * the operation and send the same key when retrying it.
 */
export function newIdempotencyKey(): string {
  return globalThis.crypto.randomUUID();
}

/** Whether v has the shape of a `Problem`. */
export function isProblem(v: unknown): v is Problem {
  if (typeof v !== "object" || v === null) return false;
  const p = v as Record<string, unknown>;
  return typeof p.type === "string" && typeof p.title === "string" && typeof p.status === "number";
}

// toProblem returns the problem routeapi sent, or one made from the status
// when the answer was not a problem document (e.g. a proxy's HTML page).
function toProblem(error: unknown, response: Response): Problem {
  if (isProblem(error)) return error;
  const problem: Problem = {
    type: "about:blank",
    title: response.statusText || `HTTP ${response.status}`,
    status: response.status,
  };
  if (typeof error === "string" && error !== "") problem.detail = error.slice(0, 500);
  return problem;
}

function retryAfter(response: Response): number | undefined {
  const v = response.headers.get("Retry-After");
  if (v === null || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}
