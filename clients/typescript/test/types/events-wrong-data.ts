// Must NOT compile: a data of another event's shape (feedback under
// shop/order.placed): the name chooses the schema.
import { createRouteClient } from "../../src/index.js";

const client = createRouteClient({ baseUrl: "http://127.0.0.1:8390" });
export const res = client.sendEvents([{ name: "shop/order.placed", data: { rating: 4, page: { path: "/checkout" } } }]);
