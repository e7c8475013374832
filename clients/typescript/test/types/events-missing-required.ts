// Must NOT compile: OrderPlacedData without its required currency (TS2741).
import { createRouteClient } from "../../src/index.js";

const client = createRouteClient({ baseUrl: "http://127.0.0.1:8390" });
export const res = client.sendEvents([
  { name: "shop/order.placed", data: { orderId: "ord_1", total: 3, items: [{ sku: "mug", quantity: 1, unitPrice: 3 }] } },
]);
