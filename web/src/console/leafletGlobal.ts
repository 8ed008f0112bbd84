// Leaflet as the global `L` that Leaflet.markercluster (a UMD plugin) extends. Imported by
// maps.ts before the plugin, so the plugin finds it.
import L from 'leaflet'

;(globalThis as unknown as { L: typeof L }).L = L

export default L
