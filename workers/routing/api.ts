import { requireRole } from '../edge/auth'
import { createSurfaceApp } from '../edge/surface'

export const routingApi = createSurfaceApp()
routingApi.use('*', requireRole('admin', 'operator'))
routingApi.get('/brands', async (c) => c.json({ items: [] }))
