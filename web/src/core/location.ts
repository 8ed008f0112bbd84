// Where the phone is, told honestly. The browser's Geolocation API does not say whether a fix
// came from GPS or from Wi-Fi/cell positioning; it gives an accuracy radius. The rule
// (docs/decisions/0006): accuracy <= 100 m is reported as `gps`, anything coarser as `network`
// (the server's tolerance is then 1000 m instead of 500 m). The accuracy itself and the fix's
// age are always sent, so the reviewer sees what the phone really said.

export const GPS_MAX_ACCURACY_M = 100

export type LocationSource = 'gps' | 'network'

export interface Fix {
  lat: number
  lng: number
  accuracy: number
  source: LocationSource
  /** seconds between the fix and the moment it is sent */
  fix_age_s: number
  /** ISO time of the fix */
  time: string
}

export interface RawPosition {
  coords: { latitude: number; longitude: number; accuracy: number }
  timestamp: number
}

export function sourceFromAccuracy(accuracy: number): LocationSource {
  return Number.isFinite(accuracy) && accuracy >= 0 && accuracy <= GPS_MAX_ACCURACY_M ? 'gps' : 'network'
}

export function fixAgeSeconds(fixTimestamp: number, now: number): number {
  return Math.max(0, Math.round((now - fixTimestamp) / 1000))
}

export function toFix(position: RawPosition, now: number = Date.now()): Fix {
  const { latitude, longitude, accuracy } = position.coords
  return {
    lat: Number(latitude.toFixed(7)),
    lng: Number(longitude.toFixed(7)),
    accuracy: Math.round(accuracy * 10) / 10,
    source: sourceFromAccuracy(accuracy),
    fix_age_s: fixAgeSeconds(position.timestamp, now),
    time: new Date(now).toISOString(),
  }
}

/** The fix as the check-in/check-out body fields (strings for a multipart form). */
export function fixFields(fix: Fix): Record<string, string> {
  return {
    time: fix.time,
    lat: String(fix.lat),
    lng: String(fix.lng),
    accuracy: String(fix.accuracy),
    source: fix.source,
    fix_age_s: String(fix.fix_age_s),
    mock_location: 'false',
  }
}

/** Distance in metres (haversine), for showing how far the phone is from the planned place. */
export function distanceM(a: { lat: number; lng: number }, b: { lat: number; lng: number }): number {
  const r = 6371008.8
  const rad = Math.PI / 180
  const dLat = (b.lat - a.lat) * rad
  const dLng = (b.lng - a.lng) * rad
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2
  return 2 * r * Math.asin(Math.min(1, Math.sqrt(h)))
}
