// Must compile: how a front end and an Inngest function use the client.
// test/types.test.mjs runs `tsc --noEmit` on it.
import { createRouteClient, isProblem, newIdempotencyKey } from "../../src/index.js";
import type { PostRouteProblemStatus, PostRouteResult, PostRouteSuccessStatus, Problem, RouteEvent, RouteQueuedResponse, RouteResponse, User } from "../../src/index.js";

const client = createRouteClient({
  baseUrl: "http://127.0.0.1:8390",
  headers: { cookie: "next-auth.session-token=token" },
});

export async function submit(): Promise<string> {
  // Any JSON value but null is a valid payload.
  await client.postRoute("data");
  await client.postRoute(42);
  await client.postRoute([1, 2, 3]);
  const res: PostRouteResult = await client.postRoute({ orderId: "ord_123" }, { idempotencyKey: newIdempotencyKey() });
  // The contract's idempotency refusals are among its typed error statuses.
  const inFlight: PostRouteProblemStatus = 409;
  const reused: PostRouteProblemStatus = 422;
  if (!res.ok && (res.status === inFlight || res.status === reused)) {
    return `${res.problem.type} retry after ${res.retryAfter ?? "never"}`;
  }
  if (!res.ok) {
    const problem: Problem = res.problem;
    const fields: string[] = (problem.errors ?? []).map((e) => `${e.pointer}: ${e.detail}`);
    return `${res.status} ${problem.type} ${problem.title} ${problem.detail ?? ""} ${fields.join("; ")} ${res.retryAfter ?? 0}`;
  }
  // Narrow on the status: this keeps compiling when the contract gains
  // another success status (an additive change).
  const status: PostRouteSuccessStatus = res.status;
  if (res.status === 200) {
    const answer: RouteResponse = res.data;
    const success: "true" = answer.success;
    return `${success} ${answer.eventId} ${answer.ids.join(",")}`;
  }
  if (res.status === 202) {
    const queued: RouteQueuedResponse = res.data;
    const flag: true = queued.queued;
    return `queued ${flag} ${queued.eventId}`;
  }
  return `success ${status}`;
}

// An Inngest function handler typed from the same contract.
export function handle({ event }: { event: RouteEvent }): string {
  const user: User = event.data.user;
  const requestId: string = event.data.requestId;
  const appName: unknown = event.data.settings["appName"];
  return `${event.name} ${event.id} ${event.ts} ${user.id} ${user.email ?? ""} ${requestId} ${String(appName)}`;
}

// The raw openapi-fetch client is typed by the whole contract.
export async function health(): Promise<"ok" | "ready" | undefined> {
  const { data, error } = await client.raw.GET("/healthz");
  if (error !== undefined && isProblem(error)) return undefined;
  return data?.status;
}
