// The original route, still in place: it answers as the original did.
import { oldRoute } from "../../../lib/old-route.js";

export const dynamic = "force-dynamic";
export const POST = oldRoute;
