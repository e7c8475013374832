// Must compile: sendEvents and the catalogue's types, the way a front end
// and a function author use them. test/types.test.mjs runs `tsc --noEmit` on it.
import { createRouteClient } from "../../src/index.js";
import type {
  CatalogueData,
  CatalogueEvent,
  CatalogueEventData,
  CatalogueEventName,
  CatalogueEventOf,
  SendEventsProblemStatus,
  SendEventsQueuedResponse,
  SendEventsResponse,
  SendEventsResult,
  SendEventsSuccessStatus,
} from "../../src/index.js";
import { catalogueEventTypes, feedbackSubmitted, orderPlaced } from "../../src/inngest.js";
import { Inngest } from "inngest";
import type { EventType, StandardSchemaV1 } from "inngest";

const client = createRouteClient({ baseUrl: "http://127.0.0.1:8390" });

// Every name, and only those, is a CatalogueEventName.
const names: CatalogueEventName[] = ["shop/order.placed", "app/feedback.submitted"];
// Exact is true when A and B are the same type (and A is not any).
type Exact<A, B> = 0 extends 1 & A ? false : [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const exactNames: Exact<CatalogueEventName, "shop/order.placed" | "app/feedback.submitted"> = true;

export async function send(): Promise<string> {
  // Required members only; then every optional member.
  const minimal: SendEventsResult = await client.sendEvents([
    { name: "shop/order.placed", data: { orderId: "ord_1", currency: "EUR", total: 0, items: [{ sku: "s", quantity: 1, unitPrice: 0 }] } },
    { name: "app/feedback.submitted", data: { rating: 1, page: { path: "/" } } },
  ]);
  const full = await client.sendEvents(
    [
      {
        name: "shop/order.placed",
        data: {
          orderId: "ord_2",
          currency: "GBP",
          total: 12.5,
          placedAt: "2026-11-30T21:04:05Z",
          coupon: "WINTER10",
          items: [{ sku: "mug-blue", quantity: 2, unitPrice: 6.25 }],
        },
      },
      { name: "app/feedback.submitted", data: { rating: 5, comment: "ok", email: "a@example.com", page: { path: "/x", title: "X" }, tags: ["bug", "idea", "praise"] } },
    ],
    { idempotencyKey: "order-ord_2-submit", headers: { "x-trace": "1" }, signal: new AbortController().signal },
  );
  // A batch built in a loop, and a readonly one.
  const batch: CatalogueEvent[] = names.map((n) =>
    n === "app/feedback.submitted"
      ? { name: n, data: { rating: 3, page: { path: "/" } } }
      : { name: n, data: { orderId: "ord_3", currency: "USD", total: 1, items: [{ sku: "s", quantity: 1, unitPrice: 1 }] } },
  );
  const frozen: readonly CatalogueEvent[] = Object.freeze(batch);
  await client.sendEvents(frozen);

  if (!minimal.ok) {
    const status: number = minimal.status;
    const forbidden: SendEventsProblemStatus = 403;
    const pointers = (minimal.problem.errors ?? []).map((e) => e.pointer);
    return `${status} ${forbidden} ${pointers.join(",")} ${minimal.retryAfter ?? 0} ${minimal.requestId ?? ""}`;
  }
  const status: SendEventsSuccessStatus = minimal.status;
  if (minimal.status === 200) {
    const answer: SendEventsResponse = minimal.data;
    return `${status} ${answer.eventIds.join(",")} ${answer.ids.join(",")}`;
  }
  if (full.ok && full.status === 202) {
    const queued: SendEventsQueuedResponse = full.data;
    const flag: true = queued.queued;
    return `${flag} ${queued.eventIds.length}`;
  }
  return "";
}

// The data of each name, and the envelope Inngest receives.
export function read(order: CatalogueData<"shop/order.placed">, env: CatalogueEventData<"app/feedback.submitted">): string {
  const line: { sku: string; quantity: number; unitPrice: number } = order.items[0];
  const rating: number = env.data.rating;
  const title: string | undefined = env.data.page.title;
  const evt: CatalogueEventOf<"shop/order.placed"> = { name: "shop/order.placed", data: order };
  const any: CatalogueEventData = { ...env, data: order }; // without N, data is any catalogue event's data
  return `${line.sku} ${rating} ${title ?? ""} ${evt.name} ${env.user.id} ${env.requestId} ${String(env.settings["appName"])} ${JSON.stringify(any.data)}`;
}

// The generated triggers: one per name, typed by its envelope.
export const triggers: { readonly [N in CatalogueEventName]: EventType<N, StandardSchemaV1<CatalogueEventData<N>>> } = catalogueEventTypes;
export const orderName: "shop/order.placed" = orderPlaced.name;
export const feedbackName: "app/feedback.submitted" = feedbackSubmitted.event;
// EventType.create, typed by the same schema (for tests that send through inngest).
export const created = orderPlaced.create({
  data: { orderId: "ord_4", currency: "EUR", total: 1, items: [{ sku: "s", quantity: 1, unitPrice: 1 }] },
  user: { id: "u" },
  settings: {},
  requestId: "r",
});

// A function triggered by a generated trigger gets exactly that event's envelope as event.data.
const fn = new Inngest({ id: "types" });
export const onOrder = fn.createFunction({ id: "o", triggers: [orderPlaced] }, async ({ event }) => {
  const exact: Exact<typeof event.data, CatalogueEventData<"shop/order.placed">> = true;
  const exactData: Exact<typeof event.data.data, CatalogueData<"shop/order.placed">> = true;
  return exact && exactData;
});
export const onFeedback = fn.createFunction({ id: "f", triggers: [catalogueEventTypes["app/feedback.submitted"]] }, async ({ event }) => {
  const exact: Exact<typeof event.data.data, CatalogueData<"app/feedback.submitted">> = true;
  return exact;
});
