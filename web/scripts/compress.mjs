// Precompress the build: a .br and a .gz beside every text file, so the gateway serves them
// by content negotiation (gateway/gateway/web.py) and never compresses per request.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'

const TEXT = /\.(js|mjs|css|html|svg|json|txt|webmanifest|map)$/
const root = process.argv[2] ?? 'dist'

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) yield* files(path)
    else yield path
  }
}

let count = 0
for (const path of files(root)) {
  if (!TEXT.test(path)) continue
  const raw = readFileSync(path)
  writeFileSync(`${path}.gz`, gzipSync(raw, { level: 9 }))
  writeFileSync(`${path}.br`, brotliCompressSync(raw, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length },
  }))
  count += 1
}
console.log(`compressed ${count} files (br + gz) under ${root}`)
