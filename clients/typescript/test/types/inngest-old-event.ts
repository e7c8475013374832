// Must NOT compile: the original route put the settings at the top of the
// event's data (event.data.appId); routeapi nests them under data.settings
// (TS2339). Proves the README's inngest 4.x typing really types event.data.
import { Inngest, eventType, staticSchema } from "inngest";
import type { RouteEventData } from "@routeapi/client";

const routeRequested = eventType("app/route.requested", { schema: staticSchema<RouteEventData>() });
export const onRoute = new Inngest({ id: "my-app" }).createFunction(
  { id: "on-route-requested", triggers: [routeRequested] },
  async ({ event }) => event.data.appId,
);
