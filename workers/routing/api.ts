/**
 * `/api/routing/*`: brands, domains, geo rules, origin pools and origins with their health history,
 * and per-domain analytics. Reads need `routing:read`, writes `routing:write` (operators and admins,
 * workers/sso/roles/permissions.ts). Every write is validated, audited and drops the routing
 * snapshot so the edge serves the change at once.
 * @module
 */
import { createSurfaceApp } from '../edge/surface'
import { declareAppAccess, permission } from '../sso/roles/access'
import { registerAnalyticsRoutes } from './analytics-api'
import { registerBrandRoutes } from './brands'
import { registerDomainRoutes } from './domains'
import { registerGeoRuleRoutes } from './geo-rules'
import { registerOriginRoutes } from './origins'
import { registerPoolRoutes } from './pools'

export const routingApi = createSurfaceApp()

declareAppAccess(routingApi, (route) => permission(route.method === 'get' ? 'routing:read' : 'routing:write'))

registerBrandRoutes(routingApi)
registerDomainRoutes(routingApi)
registerGeoRuleRoutes(routingApi)
registerPoolRoutes(routingApi)
registerOriginRoutes(routingApi)
registerAnalyticsRoutes(routingApi)
