/**
 * Per-object SQLite schema migrations for Durable Objects: numbered in array order, the last applied
 * number kept in `_migrations`, all pending ones applied in one storage transaction. Objects call it
 * from their constructor under `blockConcurrencyWhile`, so no request sees a half-migrated schema.
 * Append to a class's list, never edit an applied entry: old objects keep their data across deploys.
 */
export function migrateSql(storage: DurableObjectStorage, migrations: readonly string[]): void {
  const sql = storage.sql
  sql.exec('CREATE TABLE IF NOT EXISTS _migrations (id INTEGER PRIMARY KEY)')
  const applied = sql.exec<{ id: number | null }>('SELECT MAX(id) AS id FROM _migrations').one().id ?? -1
  storage.transactionSync(() => {
    for (let i = applied + 1; i < migrations.length; i++) {
      sql.exec(migrations[i]!)
      sql.exec('INSERT INTO _migrations (id) VALUES (?)', i)
    }
  })
}
