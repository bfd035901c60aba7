/** JSON values: what crosses Durable Object RPC and lands in audit details without surprises. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }
export type JsonObject = { [key: string]: JsonValue }
