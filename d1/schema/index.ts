// One file per subsystem; drizzle-kit reads this barrel to generate d1/migrations.
export * from './brands'
export * from './routing'
export * from './auth'
export * from './queues'
export * from './sso'
export * from './oidc'
export * from './payments'
export * from './vault'
