import { createSurfaceApp } from '../edge/surface'
export const siteApp = createSurfaceApp()
siteApp.get('/', (c) => c.html(`<h1>${c.var.brand?.name}</h1>`))
