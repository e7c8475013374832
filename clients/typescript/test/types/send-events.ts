import { createRouteClient, newIdempotencyKey } from "@routeapi/client";
import type { CatalogueData, CatalogueEvent } from "@routeapi/client";

const routeapi = createRouteClient({ baseUrl: "", credentials: "same-origin" });

export async function placeOrder(order: CatalogueData<"shop/order.placed">, rating: 1 | 2 | 3 | 4 | 5) {
  const events: CatalogueEvent[] = [
    { name: "shop/order.placed", data: order },
    { name: "app/feedback.submitted", data: { rating, page: { path: "/checkout" }, tags: ["praise"] } },
  ];
  const key = newIdempotencyKey(); // once per user action; send it again only to retry this batch
  const res = await routeapi.sendEvents(events, { idempotencyKey: key });
  if (!res.ok) {
    // 400: res.problem.errors[].pointer is e.g. "/events/1/data/rating"; nothing was published.
    // 403 "urn:routeapi:problem:event-disabled": the settings switch a name off.
    return { error: res.problem, retryAfter: res.retryAfter };
  }
  // 200: Inngest accepted every event; 202: queued durably. One id per event, in order.
  const [orderEventId, feedbackEventId] = res.data.eventIds;
  return { orderEventId, feedbackEventId, queued: res.status === 202 };
}
