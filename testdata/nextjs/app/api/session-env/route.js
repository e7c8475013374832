// The session as the app without `secret` (environment only) reads it.
import { envOnly } from "../../../lib/auth.js";

export const dynamic = "force-dynamic";
export async function GET() {
  return Response.json({ session: await envOnly.auth() });
}
