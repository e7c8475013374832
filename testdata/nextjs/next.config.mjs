// Rewrites to routeapi at ROUTEAPI_URL (read by `next build`). Next.js treats
// a plain rewrites() array as afterFiles (next/dist/lib/load-custom-routes.js),
// so the afterFiles entries here stand for the plain-array form.
const destination = `${process.env.ROUTEAPI_URL}/api/route`;

/** @type {import('next').NextConfig} */
export default {
  poweredByHeader: false,
  async rewrites() {
    return {
      // Checked before the app's own routes: wins over app/api/route/route.js.
      beforeFiles: [
        { source: "/api/route", destination },
        // POST /api/events (typed events), as the README's "Typed events" says.
        { source: "/api/events", destination: `${process.env.ROUTEAPI_URL}/api/events` },
      ],
      afterFiles: [
        // app/api/after/route.js exists: the file route wins, routeapi never sees it.
        { source: "/api/after", destination },
        // No file route: the rewrite applies (the old route file deleted).
        { source: "/api/gone", destination },
      ],
    };
  },
};
