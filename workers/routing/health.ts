export async function runHealthChecks(_env: Env, _nowMs: number): Promise<void> {}
