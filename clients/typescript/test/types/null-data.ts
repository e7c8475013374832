// Must NOT compile: `data` is any JSON value but null (TS2345).
import { createRouteClient } from "../../src/index.js";

const client = createRouteClient({ baseUrl: "http://127.0.0.1:8390" });
export const res = client.postRoute(null);
