// The browser's geolocation, as a promise of a Fix (the pure rules are in location.ts).
import { toFix, type Fix } from './location'

export class GeolocationError extends Error {
  constructor(public code: 'geo.denied' | 'geo.unavailable' | 'geo.timeout' | 'geo.unsupported') {
    super(code)
  }
}

export function currentFix(timeoutMs = 15000): Promise<Fix> {
  return new Promise((resolve, reject) => {
    if (!('geolocation' in navigator)) {
      reject(new GeolocationError('geo.unsupported'))
      return
    }
    navigator.geolocation.getCurrentPosition(
      (pos) => resolve(toFix(pos)),
      (err) => {
        const code = err.code === err.PERMISSION_DENIED ? 'geo.denied' : err.code === err.TIMEOUT ? 'geo.timeout' : 'geo.unavailable'
        reject(new GeolocationError(code))
      },
      { enableHighAccuracy: true, timeout: timeoutMs, maximumAge: 30000 },
    )
  })
}
