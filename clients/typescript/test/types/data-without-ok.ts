// Must NOT compile: `data` exists only on a success, so a caller must check
// `res.ok` (a failure, e.g. a captive portal's 200 page, has no data) (TS2339).
import { createRouteClient } from "../../src/index.js";

export const eventId = (await createRouteClient({ baseUrl: "http://127.0.0.1:8390" }).postRoute("data")).data.eventId;
