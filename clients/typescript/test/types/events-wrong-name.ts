// Must NOT compile: an event name the catalogue does not have (TS2820),
// even with a data that is valid for another name.
import { createRouteClient } from "../../src/index.js";

const client = createRouteClient({ baseUrl: "http://127.0.0.1:8390" });
export const res = client.sendEvents([
  { name: "shop/order.cancelled", data: { orderId: "ord_1", currency: "EUR", total: 3, items: [{ sku: "mug", quantity: 1, unitPrice: 3 }] } },
]);
