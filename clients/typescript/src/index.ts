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
/** The body of `POST /api/events`: 1 to 100 catalogue events. */
export type SendEventsRequest = components["schemas"]["SendEventsRequest"];
/**
 * One event of the catalogue (`CatalogueEvent` in openapi.yaml): a union
 * discriminated by `name`, so `data` must be the schema of that name.
 */
export type CatalogueEvent = components["schemas"]["CatalogueEvent"];
/** Every event name of the catalogue, e.g. `"shop/order.placed"`. */
export type CatalogueEventName = CatalogueEvent["name"];
/** The catalogue event of name `N`: `{ name: N; data: <its schema> }`. */
export type CatalogueEventOf<N extends CatalogueEventName> = Extract<CatalogueEvent, { name: N }>;
/** The `data` a front end sends for the event `N` (e.g. `OrderPlacedData` for `"shop/order.placed"`). */
export type CatalogueData<N extends CatalogueEventName> = CatalogueEventOf<N>["data"];
type CatalogueEnvelope = components["schemas"]["CatalogueEventData"];
/**
 * The `data` of catalogue event `N` as Inngest receives it (the envelope
 * `CatalogueEventData`): `data` is what the front end sent for `N`
 * (`CatalogueData<N>`), `user` the session's user, `settings` the public
 * settings, `requestId` routeapi's `X-Request-Id`. Without `N`, `data` is
 * the union of every catalogue event's data.
 */
export type CatalogueEventData<N extends CatalogueEventName = CatalogueEventName> = {
  [K in keyof CatalogueEnvelope]: K extends "data" ? CatalogueData<N> : CatalogueEnvelope[K];
};
/** The 200 answer of `POST /api/events`: Inngest accepted every event. */
export type SendEventsResponse = components["schemas"]["SendEventsResponse"];
/** The 202 answer of `POST /api/events`: the events are queued durably and will be delivered with their `eventIds`. */
export type SendEventsQueuedResponse = components["schemas"]["SendEventsQueuedResponse"];
/** An RFC 9457 problem document: every error routeapi answers. */
export type Problem = components["schemas"]["Problem"];
/** One field error of a 400 problem. */
export type FieldError = components["schemas"]["FieldError"];

export interface RouteClientOptions {
  /**
   * Where routeapi is, e.g. `http://127.0.0.1:8390` (server side) or `""`
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

/**
 * The options of `sendEvents`: as {@link PostRouteOptions}. An
 * `idempotencyKey` covers the whole batch (apart from the keys of
 * `postRoute`): a retry with the same events gets the first answer (same
 * `eventIds`, nothing published again); other events get 422
 * `idempotency-key-reused`; a retry while the first is in flight gets 409.
 */
export type SendEventsOptions = PostRouteOptions;

// The success statuses among an operation's responses, and the JSON body of one.
type SuccessStatusOf<R> = Extract<keyof R, 200 | 201 | 202 | 203 | 204 | 205 | 206>;
type SuccessBodyOf<R, S extends keyof R> = R[S] extends { content: { "application/json": infer B } } ? B : undefined;
// One success variant per success status of an operation's responses.
type SuccessOf<R> = {
  [S in SuccessStatusOf<R>]: {
    ok: true;
    status: S;
    data: SuccessBodyOf<R, S>;
    /** The `X-Request-Id` of the answer. */
    requestId: string | null;
    response: Response;
  };
}[SuccessStatusOf<R>];

type PostRouteResponses = operations["postRoute"]["responses"];
/** The success statuses of `POST /api/route` in the contract (today: 200 published, 202 queued). */
export type PostRouteSuccessStatus = SuccessStatusOf<PostRouteResponses>;

/** A success answer, one variant per success status of the contract (200: Inngest accepted the event; 202: queued). */
export type PostRouteSuccess = SuccessOf<PostRouteResponses>;

/** The error statuses of `POST /api/route` in the contract (e.g. 409 idempotency-key-in-flight, 422 idempotency-key-reused). */
export type PostRouteProblemStatus = Exclude<keyof PostRouteResponses, PostRouteSuccessStatus>;

type SendEventsResponses = operations["sendEvents"]["responses"];
/** The success statuses of `POST /api/events` in the contract (today: 200 published, 202 queued). */
export type SendEventsSuccessStatus = SuccessStatusOf<SendEventsResponses>;
/**
 * A success answer of `sendEvents`, one variant per success status of the
 * contract (200: Inngest accepted every event; 202: queued). `data.eventIds`
 * has one id per event sent, in order.
 */
export type SendEventsSuccess = SuccessOf<SendEventsResponses>;
/** The error statuses of `POST /api/events` in the contract (e.g. 400 invalid-request, 403 event-disabled, 409, 422). */
export type SendEventsProblemStatus = Exclude<keyof SendEventsResponses, SendEventsSuccessStatus>;

/**
 * routeapi (or something in front of it) refused the request, or answered
 * something that is not the contract's answer for its status.
 */
export interface PostRouteFailure {
  ok: false;
  /** The HTTP status; a 2xx when the answer's body was not the contract's success body. */
  status: number;
  /**
   * The problem routeapi sent; or, when the answer was not a problem document,
   * one made by the client: `type: "about:blank"` for an error status (a
   * proxy's HTML error page), {@link UNEXPECTED_RESPONSE} for a success status
   * whose body is not the contract's success body (a captive portal's
   * `200 text/html`, an empty 200, a JSON body without `eventId`).
   */
  problem: Problem;
  /** The `X-Request-Id` of the answer; quote it when reporting a problem. */
  requestId: string | null;
  /** Seconds from `Retry-After` (409, 429, 503), when present. */
  retryAfter: number | undefined;
  response: Response;
}

export type PostRouteResult = PostRouteSuccess | PostRouteFailure;

/**
 * routeapi refused the batch (nothing was published), or something that is
 * not routeapi's answer came back: the same shape as {@link PostRouteFailure}.
 * A 400's `problem.errors[].pointer` names each offending member
 * (`/events/<i>/data/…`), a 403 `event-disabled` each `/events/<i>/name`.
 */
export type SendEventsFailure = PostRouteFailure;

export type SendEventsResult = SendEventsSuccess | SendEventsFailure;

export interface RouteClient {
  /**
   * `POST /api/route`: publishes one event for the signed-in user. Resolves
   * to a success (a success status of the contract with its JSON body) or a
   * typed problem (anything else, including a 2xx whose body is not the
   * contract's: {@link UNEXPECTED_RESPONSE}); rejects only when no HTTP
   * answer came (network error, abort).
   */
  postRoute(data: RouteData, options?: PostRouteOptions): Promise<PostRouteResult>;
  /**
   * `POST /api/events`: publishes 1 to 100 catalogue events for the
   * signed-in user, all or none. Each event's `data` is typed by its `name`
   * (a wrong name, a missing required member, a wrong enum value or a
   * member the schema does not have is a compile error); routeapi checks
   * the rest (formats, bounds, patterns, the batch size) and answers 400.
   * Resolves like `postRoute`; a success's `data.eventIds` has one id per
   * event, in the order sent.
   */
  sendEvents(events: readonly CatalogueEvent[], options?: SendEventsOptions): Promise<SendEventsResult>;
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
      // parseAs "text": openapi-fetch's default JSON parsing rejects on a
      // success answer that is not JSON (a captive portal's HTML page); the
      // body is checked against the contract below instead.
      const answer = await raw.POST("/api/route", {
        body: { data },
        params: idempotencyKey === undefined ? {} : { header: { "Idempotency-Key": idempotencyKey } },
        headers,
        signal,
        parseAs: "text",
      });
      return toResult<PostRouteResponses>(answer, postRouteBody);
    },
    async sendEvents(events, { idempotencyKey, headers, signal } = {}) {
      const answer = await raw.POST("/api/events", {
        body: { events: [...events] },
        params: idempotencyKey === undefined ? {} : { header: { "Idempotency-Key": idempotencyKey } },
        headers,
        signal,
        parseAs: "text",
      });
      return toResult<SendEventsResponses>(answer, sendEventsBody(events.length));
    },
  };
}

// toResult turns openapi-fetch's answer (parsed as text) into a success of
// the contract, checked by bodies, or a failure: a problem routeapi sent, or
// one made by the client for an answer that is not routeapi's.
function toResult<R>(
  { data: text, error, response }: { data?: string; error?: unknown; response: Response },
  bodies: SuccessBodies<R>,
): SuccessOf<R> | PostRouteFailure {
  const requestId = response.headers.get("X-Request-Id");
  if (response.ok) {
    const success = toSuccess(bodies, response, text, requestId);
    if (success !== undefined) return success;
    return {
      ok: false,
      status: response.status,
      problem: unexpectedResponse(response, text),
      requestId,
      retryAfter: retryAfter(response),
      response,
    };
  }
  return {
    ok: false,
    status: response.status,
    problem: toProblem(error, response),
    requestId,
    retryAfter: retryAfter(response),
    response,
  };
}

/**
 * The problem `type` of a {@link PostRouteFailure} whose answer had a success
 * status but not the contract's success body for it. The client makes it;
 * routeapi never sends it: something in front of routeapi answered instead
 * (a captive portal, a misrouted proxy or rewrite), and whether the event was
 * published is unknown.
 */
export const UNEXPECTED_RESPONSE = "urn:routeapi:problem:unexpected-response";

type JSONObject = Record<string, unknown>;

// SuccessBodies checks, for each success status of an operation, that a
// parsed JSON body is that status's body: every required member of its
// schema, with its type and enum. Members the contract may add later are
// ignored (an additive change must not break this client). The mapped type
// makes a success status added to openapi.yaml a compile error here until it
// has a check.
type SuccessBodies<R> = { [S in SuccessStatusOf<R>]: (b: JSONObject) => b is JSONObject & SuccessBodyOf<R, S> };

const postRouteBody: SuccessBodies<PostRouteResponses> = {
  // RouteResponse: required [success, ids, eventId].
  200: (b): b is JSONObject & RouteResponse => b.success === "true" && isStringArray(b.ids) && typeof b.eventId === "string",
  // RouteQueuedResponse: required [success, ids (maxItems 0), eventId, queued].
  202: (b): b is JSONObject & RouteQueuedResponse =>
    b.success === "true" && isStringArray(b.ids) && b.ids.length === 0 && typeof b.eventId === "string" && b.queued === true,
};

// sendEventsBody checks the answers of a batch of n events: eventIds has one
// id per event sent ("the id of each event, in the order sent").
function sendEventsBody(n: number): SuccessBodies<SendEventsResponses> {
  const eventIds = (v: unknown) => isStringArray(v) && v.length === n;
  return {
    // SendEventsResponse: required [success, eventIds, ids].
    200: (b): b is JSONObject & SendEventsResponse => b.success === "true" && eventIds(b.eventIds) && isStringArray(b.ids),
    // SendEventsQueuedResponse: required [success, eventIds, ids (maxItems 0), queued].
    202: (b): b is JSONObject & SendEventsQueuedResponse =>
      b.success === "true" && eventIds(b.eventIds) && isStringArray(b.ids) && b.ids.length === 0 && b.queued === true,
  };
}

// toSuccess returns the success variant for a 2xx answer whose body is the
// contract's success body for its status, and undefined for anything else:
// a status the contract does not list, a media type other than JSON, a body
// that is empty, not JSON, or missing a required member.
function toSuccess<R>(
  bodies: SuccessBodies<R>,
  response: Response,
  text: string | undefined,
  requestId: string | null,
): SuccessOf<R> | undefined {
  if (!(response.status in bodies) || !isJSONMediaType(response.headers.get("Content-Type"))) return undefined;
  const status = response.status as SuccessStatusOf<R>;
  let body: unknown;
  try {
    body = JSON.parse(text ?? "");
  } catch {
    return undefined;
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const obj = body as JSONObject;
  const isBody: (b: JSONObject) => boolean = bodies[status];
  // The cast pairs status and data, which bodies[status] just checked.
  return isBody(obj) ? ({ ok: true, status, data: obj, requestId, response } as SuccessOf<R>) : undefined;
}

// isJSONMediaType reports whether a Content-Type is application/json (any
// parameters), the only media type of the contract's success bodies.
function isJSONMediaType(contentType: string | null): boolean {
  return contentType !== null && contentType.split(";")[0].trim().toLowerCase() === "application/json";
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === "string");
}

// unexpectedResponse is the problem for a success status whose body is not
// the contract's success body; detail names what came (media type, size).
function unexpectedResponse(response: Response, text: string | undefined): Problem {
  const contentType = response.headers.get("Content-Type") ?? "no Content-Type";
  const what = text === undefined || text === "" ? "an empty body" : `${text.length} characters of ${contentType}`;
  return {
    type: UNEXPECTED_RESPONSE,
    title: "Unexpected response",
    status: response.status,
    detail: `HTTP ${response.status} with ${what}, not routeapi's answer for this status; something in front of routeapi may have answered, and whether the event was published is unknown.`,
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
