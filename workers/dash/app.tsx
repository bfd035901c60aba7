import { createSurfaceApp } from '../edge/surface'
export const dashApp = createSurfaceApp()
dashApp.get('/', (c) => c.html('<h1>FanzDash</h1>'))
