import { describe, expect, it } from 'vitest'
import { distanceM, fixAgeSeconds, fixFields, GPS_MAX_ACCURACY_M, sourceFromAccuracy, toFix } from '@/core/location'

describe('location source from accuracy', () => {
  it('calls a fix within 100 m gps and anything coarser network', () => {
    expect(GPS_MAX_ACCURACY_M).toBe(100)
    expect(sourceFromAccuracy(5)).toBe('gps')
    expect(sourceFromAccuracy(100)).toBe('gps')
    expect(sourceFromAccuracy(100.1)).toBe('network')
    expect(sourceFromAccuracy(1500)).toBe('network')
  })
  it('never calls a missing or impossible accuracy gps', () => {
    expect(sourceFromAccuracy(Number.NaN)).toBe('network')
    expect(sourceFromAccuracy(-1)).toBe('network')
    expect(sourceFromAccuracy(Number.POSITIVE_INFINITY)).toBe('network')
  })
})

describe('fix', () => {
  it('keeps accuracy and the age of the fix honestly', () => {
    const now = Date.parse('2026-03-02T08:00:10Z')
    const fix = toFix({ coords: { latitude: 31.23041234567, longitude: 121.47371234567, accuracy: 1234.56 }, timestamp: now - 7400 }, now)
    expect(fix).toEqual({ lat: 31.2304123, lng: 121.4737123, accuracy: 1234.6, source: 'network', fix_age_s: 7, time: '2026-03-02T08:00:10.000Z' })
    expect(fixFields(fix)).toMatchObject({ source: 'network', accuracy: '1234.6', fix_age_s: '7', mock_location: 'false' })
  })
  it('does not report a negative age for a clock running ahead', () => {
    expect(fixAgeSeconds(2000, 1000)).toBe(0)
  })
  it('measures distances in metres', () => {
    const a = { lat: 31.2304, lng: 121.4737 }
    expect(distanceM(a, a)).toBe(0)
    expect(Math.round(distanceM(a, { lat: 31.2304 + 500 / 111195, lng: 121.4737 }))).toBe(500)
  })
})
