// What the deployment tells the apps (gateway/web.py): the map tile URL template (none: the
// maps have no base layer and nothing is fetched from another host).
import { api } from './client'

export interface WebConfig {
  map: { tile_url: string | null; attribution: string }
}

let cached: Promise<WebConfig> | null = null

export function webConfig(): Promise<WebConfig> {
  cached ??= (api.get('/api/v1/web-config') as Promise<WebConfig>).catch((err) => {
    cached = null
    throw err
  })
  return cached
}
