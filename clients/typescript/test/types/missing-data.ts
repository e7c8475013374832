// Must NOT compile: postRoute without `data` (TS2554).
import { createRouteClient } from "../../src/index.js";

const client = createRouteClient({ baseUrl: "http://127.0.0.1:8390" });
export const res = client.postRoute();
