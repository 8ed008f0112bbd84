// Distances for the route editor's unsaved drafts — the same great-circle formula and earth
// radius as the visits service (rules.haversine_m), so a draft's length matches what the service
// says once it is saved. Pure.
export const EARTH_RADIUS_M = 6_371_008.8

export function haversineM(lat1: number, lng1: number, lat2: number, lng2: number): number {
  const rad = Math.PI / 180
  const p1 = lat1 * rad
  const p2 = lat2 * rad
  const dp = p2 - p1
  const dl = (lng2 - lng1) * rad
  const a = Math.sin(dp / 2) ** 2 + Math.cos(p1) * Math.cos(p2) * Math.sin(dl / 2) ** 2
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)))
}

/** The length of an open path through the points in order; null when a point has no location. */
export function pathLengthM(points: readonly { lat: number | null | undefined; lng: number | null | undefined }[]): number | null {
  if (points.some((p) => p.lat === null || p.lat === undefined || p.lng === null || p.lng === undefined)) return null
  let total = 0
  for (let i = 1; i < points.length; i++) total += haversineM(points[i - 1].lat as number, points[i - 1].lng as number, points[i].lat as number, points[i].lng as number)
  return total
}

/** Metres for people: "850 米" / "12.3 公里" (units from the caller's language). */
export function distanceText(m: number | null | undefined, units: { m: string; km: string }): string {
  if (m === null || m === undefined || !Number.isFinite(m)) return '—'
  return m < 1000 ? `${Math.round(m)} ${units.m}` : `${(Math.round(m / 100) / 10).toFixed(1)} ${units.km}`
}
