import { Inngest, eventType, staticSchema } from "inngest";
import type { RouteEventData } from "@routeapi/client";

// The event routeapi publishes: settings.yaml's route.event, app/route.requested by default.
export const routeRequested = eventType("app/route.requested", {
  schema: staticSchema<RouteEventData>(), // types only; routeapi already validated it
});

export const inngest = new Inngest({
  id: "my-app",
  // inngest 4.x checkpoints by default; the local dev server v1.0.0 (make run)
  // mishandles it (runs stay Running and execute again): off in development.
  checkpointing: process.env.INNGEST_DEV ? false : undefined,
});

export const onRoute = inngest.createFunction(
  { id: "on-route-requested", triggers: [routeRequested] },
  async ({ event, step }) => {
    const userId: string = event.data.user.id; // from the session, never from the request body
    const payload: unknown = event.data.data; // the request's data, unchanged
    const requestId: string = event.data.requestId; // routeapi's X-Request-Id
    const settings: Record<string, unknown> = event.data.settings; // settings.yaml's public map
    return step.run("handle", () => ({ userId, payload, requestId, settings }));
  },
);
