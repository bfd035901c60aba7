/**
 * Sessions: the way into a user's `UserSessions` Durable Object. One object per user, so every
 * session and refresh-token family of that user lives behind one single-threaded, strongly
 * consistent store (sso.md §4 "Concurrency": never KV, which has no compare-and-swap).
 * @module
 */

/** The stub of `userId`'s session store (`user:<userId>`); call its RPC methods directly. */
export function userSessions(env: Pick<Env, 'USER_SESSIONS'>, userId: string) {
  return env.USER_SESSIONS.getByName(`user:${userId}`)
}
