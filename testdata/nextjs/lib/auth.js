// Two next-auth v5 (Auth.js) configurations of one app during a secret
// rotation, with AUTH_SECRET=<new> and AUTH_SECRET_1=<old> in the environment
// (README, "Sessions", Auth.js v5 rotation):
// - envOnly: no `secret`, so next-auth takes AUTH_SECRET alone;
// - secretList: `secret: [new, old]`, what the README tells apps to set.
import NextAuth from "next-auth";

export const envOnly = NextAuth({ providers: [], session: { strategy: "jwt" } });

export const secretList = NextAuth({
  secret: [process.env.AUTH_SECRET, process.env.AUTH_SECRET_1].filter((s) => !!s), // [new, old]
  providers: [],
  session: { strategy: "jwt" },
});
