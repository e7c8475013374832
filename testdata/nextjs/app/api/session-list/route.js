// The session as the app with `secret: [new, old]` reads it.
import { secretList } from "../../../lib/auth.js";

export const dynamic = "force-dynamic";
export async function GET() {
  return Response.json({ session: await secretList.auth() });
}
