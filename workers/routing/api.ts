/**
 * `/api/routing/*`: brands, domains, geo rules, origin pools and origins with their health history,
 * and per-domain analytics. Operators and admins only. Every write is validated, audited and drops
 * the routing snapshot so the edge serves the change at once.
 * @module
 */
import { requireRole } from '../edge/auth'
import { createSurfaceApp } from '../edge/surface'
import { registerAnalyticsRoutes } from './analytics-api'
import { registerBrandRoutes } from './brands'
import { registerDomainRoutes } from './domains'
import { registerGeoRuleRoutes } from './geo-rules'
import { registerOriginRoutes } from './origins'
import { registerPoolRoutes } from './pools'

export const routingApi = createSurfaceApp()

routingApi.use('*', requireRole('admin', 'operator'))

registerBrandRoutes(routingApi)
registerDomainRoutes(routingApi)
registerGeoRuleRoutes(routingApi)
registerPoolRoutes(routingApi)
registerOriginRoutes(routingApi)
registerAnalyticsRoutes(routingApi)
