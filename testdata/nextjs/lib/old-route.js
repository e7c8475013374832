// What the original route answered, marked so a test can tell it from routeapi.
export async function oldRoute() {
  return Response.json({ success: "true" }, { headers: { "x-answered-by": "old-route" } });
}
