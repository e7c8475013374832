// Must NOT compile: a shop/order.placed function reading a member its data
// does not have (rating is FeedbackSubmittedData's) (TS2339). Proves the
// generated triggers type event.data.data.
import { Inngest } from "inngest";
import { orderPlaced } from "@routeapi/client/inngest";

export const onOrder = new Inngest({ id: "my-app" }).createFunction(
  { id: "on-order-placed", triggers: [orderPlaced] },
  async ({ event }) => event.data.data.rating,
);
