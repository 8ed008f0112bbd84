// Leaflet for the console's maps (customer distribution, route editor), loaded with the screens
// that draw a map. The base layer is the deployment's tile URL (GET /api/v1/web-config); with none
// the map has no tiles and the browser fetches nothing from any other host. Points are divIcon
// pins coloured by CSS classes (the CSP allows no inline style), clustered when dense.
import L from './leafletGlobal'
import 'leaflet.markercluster'
import 'leaflet/dist/leaflet.css'
import 'leaflet.markercluster/dist/MarkerCluster.css'
import 'leaflet.markercluster/dist/MarkerCluster.Default.css'
import { webConfig } from '@/api/web'
import { PALETTE_SIZE } from '@/core/mapPalette'

export type LatLng = [number, number]

/** People's Square, Shanghai: where a map without points opens */
const HOME: LatLng = [31.2304, 121.4737]
const MAX_ZOOM = 18

export async function createMap(el: HTMLElement, opts: { attributionPrefix?: string } = {}): Promise<L.Map> {
  // the zoom range is the map's own: without a tile layer Leaflet has none, and marker clustering
  // refuses a map without a maxZoom ("Map has no maxZoom specified")
  const map = L.map(el, { center: HOME, zoom: 11, minZoom: 3, maxZoom: MAX_ZOOM, zoomControl: true, attributionControl: true })
  map.attributionControl.setPrefix(opts.attributionPrefix ?? false)
  const cfg = await webConfig().catch(() => null)
  if (cfg?.map.tile_url) {
    L.tileLayer(cfg.map.tile_url, { maxZoom: MAX_ZOOM, attribution: cfg.map.attribution || undefined }).addTo(map)
  }
  return map
}

/** A pin in colour `n` of the palette, named for keyboards and screen readers. */
export function pin(at: LatLng, colour: number, title: string, label?: string): L.Marker {
  const icon = L.divIcon({
    className: `c-pin c-pin-${((colour % PALETTE_SIZE) + PALETTE_SIZE) % PALETTE_SIZE}`,
    html: label ? `<span>${escapeHtml(label)}</span>` : '',
    iconSize: [18, 18],
    iconAnchor: [9, 9],
  })
  return L.marker(at, { icon, title, keyboard: true, riseOnHover: true })
}

export function clusterGroup(countLabel: (n: number) => string): L.MarkerClusterGroup {
  return L.markerClusterGroup({
    showCoverageOnHover: false,
    maxClusterRadius: 50,
    iconCreateFunction: (cluster) => {
      const n = cluster.getChildCount()
      const size = n < 10 ? 'small' : n < 100 ? 'medium' : 'large'
      return L.divIcon({
        html: `<div><span>${n}</span><span class="sr-only">${escapeHtml(countLabel(n))}</span></div>`,
        className: `marker-cluster marker-cluster-${size}`,
        iconSize: [40, 40],
      })
    },
  })
}

export function line(points: LatLng[]): L.Polyline {
  return L.polyline(points, { color: '#1677ff', weight: 3, opacity: 0.8 })
}

export function fit(map: L.Map, points: LatLng[]): void {
  if (points.length === 1) map.setView(points[0], 14)
  else if (points.length > 1) map.fitBounds(L.latLngBounds(points), { padding: [40, 40], maxZoom: 15 })
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string)
}

export { L }
