import { Inngest } from "inngest";
import { feedbackSubmitted, orderPlaced } from "@routeapi/client/inngest";

export const inngest = new Inngest({
  id: "shop",
  checkpointing: process.env.INNGEST_DEV ? false : undefined, // see "Checkpointing in development"
});

// event.data is CatalogueEventData<"shop/order.placed">: the order at event.data.data.
export const onOrderPlaced = inngest.createFunction(
  { id: "on-order-placed", triggers: [orderPlaced] },
  async ({ event, step }) => {
    const order = event.data.data; // OrderPlacedData, as the front end sent it
    const currency: "EUR" | "USD" | "GBP" = order.currency;
    const units: number = order.items.reduce((n, line) => n + line.quantity, 0);
    const coupon: string | undefined = order.coupon; // optional in the schema
    const userId: string = event.data.user.id; // from the session, never from the request body
    return step.run("record", () => ({ orderId: order.orderId, currency, units, coupon: coupon ?? null, userId }));
  },
);

export const onFeedbackSubmitted = inngest.createFunction(
  { id: "on-feedback-submitted", triggers: [feedbackSubmitted] },
  async ({ event, step }) => {
    const { rating, page, tags = [] } = event.data.data; // FeedbackSubmittedData
    const path: string = page.path;
    const praise: boolean = tags.includes("praise");
    return step.run("record", () => ({ rating, path, praise, requestId: event.data.requestId }));
  },
);
