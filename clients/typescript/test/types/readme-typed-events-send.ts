import { createRouteClient, newIdempotencyKey } from "@routeapi/client";

const routeapi = createRouteClient({ baseUrl: "", credentials: "same-origin" });
const res = await routeapi.sendEvents(
  [
    { name: "shop/order.placed", data: { orderId: "ord_8f2k1", currency: "EUR", total: 59.8, items: [{ sku: "mug-blue", quantity: 2, unitPrice: 29.9 }] } },
    { name: "app/feedback.submitted", data: { rating: 5, page: { path: "/checkout" } } },
  ],
  { idempotencyKey: newIdempotencyKey() }, // one per user action; the same key only to retry it
);
if (!res.ok) console.error(res.problem.errors); // e.g. [{ pointer: "/events/1/data/rating", … }]
else console.log(res.status, res.data.eventIds); // 200 or 202, one id per event
