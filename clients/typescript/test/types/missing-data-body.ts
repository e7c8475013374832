// Must NOT compile: a request body without `data` (TS2741).
import type { RouteRequest } from "../../src/index.js";

export const body: RouteRequest = {};
