// Must NOT compile: an event without data (TS2322).
import { createRouteClient } from "../../src/index.js";

const client = createRouteClient({ baseUrl: "http://127.0.0.1:8390" });
export const res = client.sendEvents([{ name: "app/feedback.submitted" }]);
