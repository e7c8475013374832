// The same old route at /api/after, which next.config.mjs rewrites with an
// afterFiles rewrite (what a plain rewrites() array is).
import { oldRoute } from "../../../lib/old-route.js";

export const dynamic = "force-dynamic";
export const POST = oldRoute;
