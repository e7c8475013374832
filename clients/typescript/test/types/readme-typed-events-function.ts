import { Inngest } from "inngest";
import { orderPlaced } from "@routeapi/client/inngest";

const inngest = new Inngest({ id: "shop", checkpointing: false }); // checkpointing: false for the v1.0.0 dev server
export const confirmOrder = inngest.createFunction(
  { id: "confirm-order", triggers: [orderPlaced] },
  async ({ event }) => ({ order: event.data.data.orderId, lines: event.data.data.items.length, by: event.data.user.id }),
);
