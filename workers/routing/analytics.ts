export async function flushAnalytics(_env: Env): Promise<void> {}
