import { createSurfaceApp } from '../edge/surface'
export const platformApp = createSurfaceApp()
platformApp.get('/', (c) => c.html('<h1>FANZ</h1>'))
