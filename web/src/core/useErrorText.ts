// One way to say what went wrong, from the error table (core/errors.ts) in the current language.
import { ApiError } from '@/api/client'
import { errorMessage, type Locale } from './errors'
import { NetworkError } from './retry'
import { GeolocationError } from './geolocation'
import { currentLocale } from '@/i18n'

export function errorText(err: unknown, locale: Locale = currentLocale()): string {
  if (err instanceof ApiError) return errorMessage(err.body, err.status, locale)
  if (err instanceof NetworkError) return errorMessage({ code: 'network' }, 0, locale)
  if (err instanceof GeolocationError) return errorMessage({ code: err.code }, 0, locale)
  return errorMessage({ code: 'internal', message: String((err as Error)?.message ?? err) }, 500, locale)
}
