// tardis-dev's own normalizers as the oracle for `replayterm serve` (offline, deterministic).
//
//   node oracle.mjs JOB.json
//
// JOB.json: {
//   "cacheDir": folder for tardis-dev's local cache (created),
//   "exchange": "binance-futures",
//   "raw": [hftbacktest-collector capture files: gzip lines "<receive ns> <message>"],
//   "extra": [[receive ns, message object], ...]  generated messages (e.g. markPrice) merged in,
//   "gapsNs": [[from ns, to ns], ...]  messages received in these spans are dropped and an
//            empty line (tardis's disconnect marker) is written in their place,
//   "requests": [{"id": "...", "options": tardis-machine options (object or array)}],
//   "outDir": folder for one "<id>.ndjson" per request
// }
//
// 1. The cache is written the way tardis-dev's worker reads it: one gzip file per minute,
//    `<cacheDir>/feeds/<exchange>/<sha256 of the optimized filters>/YYYY/MM/DD/HH/mm.json.gz`,
//    lines `<ISO receive time, 7 fractional digits> <message>`; the REST depth snapshot becomes
//    the generated message {"stream":"<symbol>@depthSnapshot","generated":true,"data":...}.
//    The filters and their hash come from tardis-dev's own functions (getFilters,
//    optimizeFilters, sha256, formatDateToPath), so the layout cannot drift from the library's.
// 2. Each request runs what tardis-machine's /replay-normalized runs: replayNormalized with the
//    normalizers of its data types, compute with the computables, combine for arrays, the
//    data-type filter, JSON.stringify per message (with tardis-machine's Date patch: times that
//    carry microseconds print them, millisecond times print milliseconds).
import { createRequire } from 'module'
import fs from 'fs'
import path from 'path'
import zlib from 'zlib'
import readline from 'readline'

const require = createRequire(import.meta.url)
const tardis = require('tardis-dev')
const handy = require('tardis-dev/dist/handy.js')

// tardis-machine's helpers: times with microseconds print them.
const oldToISOString = Date.prototype.toISOString
Date.prototype.toISOString = function () {
  if (this.μs !== undefined) {
    const iso = oldToISOString.apply(this)
    return iso.slice(0, iso.length - 1) + this.μs.toString().padStart(3, '0') + 'Z'
  }
  return oldToISOString.apply(this)
}

// -- tardis-machine's data type -> normalizers / computables mapping -------------------------

function* getNormalizers(dataTypes) {
  if (dataTypes.includes('trade') || dataTypes.some((t) => t.startsWith('trade_bar_'))) yield tardis.normalizeTrades
  if (dataTypes.includes('book_change') || dataTypes.some((t) => t.startsWith('book_snapshot_') || t.startsWith('quote'))) {
    yield tardis.normalizeBookChanges
  }
  if (dataTypes.includes('derivative_ticker')) yield tardis.normalizeDerivativeTickers
  if (dataTypes.includes('liquidation')) yield tardis.normalizeLiquidations
  if (dataTypes.includes('book_ticker')) yield tardis.normalizeBookTickers
}

function requestedTypes(option) {
  return option.dataTypes.map((t) => {
    if (t.startsWith('trade_bar_')) return 'trade_bar'
    if (t.startsWith('book_snapshot_') || t.startsWith('quote')) return 'book_snapshot'
    return t
  })
}

function dataTypeFilter(options) {
  const perExchange = {}
  for (const o of options) perExchange[o.exchange] = [...(perExchange[o.exchange] || []), ...requestedTypes(o)]
  return (m) => m.type === 'disconnect' || perExchange[m.exchange].includes(m.type)
}

const BAR_UNITS = { ticks: ['tick', 1], ms: ['time', 1], s: ['time', 1000], m: ['time', 60000], vol: ['volume', 1] }
const SNAP_UNITS = { ms: 1, s: 1000, m: 60000 }

function getComputables(dataTypes) {
  const out = []
  for (const t of dataTypes) {
    if (t.startsWith('trade_bar')) {
      const suffix = Object.keys(BAR_UNITS).find((s) => t.endsWith(s))
      const [kind, mult] = BAR_UNITS[suffix]
      out.push(tardis.computeTradeBars({ interval: mult * Number(t.replace('trade_bar_', '').replace(suffix, '')), kind, name: t }))
    } else if (t.startsWith('book_snapshot')) {
      const suffix = Object.keys(SNAP_UNITS).find((s) => t.endsWith(s))
      const parts = t.split('_')
      const interval = SNAP_UNITS[suffix] * Number(parts[parts.length - 1].replace(suffix, ''))
      const grouping = parts.length === 5 ? Number(parts[3].replace('grouped', '')) : undefined
      out.push(tardis.computeBookSnapshots({ interval, grouping, depth: Number(parts[2]), name: t }))
    } else if (t.startsWith('quote')) {
      if (t === 'quote') out.push(tardis.computeBookSnapshots({ interval: 0, depth: 1, name: t }))
      else {
        const suffix = Object.keys(SNAP_UNITS).find((s) => t.endsWith(s))
        out.push(tardis.computeBookSnapshots({ interval: SNAP_UNITS[suffix] * Number(t.replace('quote_', '').replace(suffix, '')), depth: 1, name: t }))
      }
    }
  }
  return out
}

// -- the cache -------------------------------------------------------------------------------

function isoOfNs(ns) {
  const ms = ns / 1000000n
  const iso = new Date(Number(ms)).toISOString() // no μs on this Date: plain milliseconds
  const frac = (ns % 1000000n) / 100n // the next four digits (100 ns units)
  return iso.slice(0, 23) + frac.toString().padStart(4, '0') + 'Z'
}

function channelOf(message) {
  if (message.stream === undefined) return undefined
  const [symbol, rest] = message.stream.split('@')
  return { symbol, channel: rest }
}

async function readCapture(files) {
  const lines = []
  for (const file of files) {
    const rl = readline.createInterface({ input: fs.createReadStream(file).pipe(zlib.createGunzip()), crlfDelay: Infinity })
    for await (const line of rl) {
      if (!line) continue
      const space = line.indexOf(' ')
      const ns = BigInt(line.slice(0, space))
      let message = JSON.parse(line.slice(space + 1))
      if (message.lastUpdateId !== undefined && message.stream === undefined) {
        // the REST depth snapshot; the capture holds one symbol per file
        message = { stream: null, generated: true, data: message }
      }
      lines.push([ns, message])
    }
  }
  return lines
}

function symbolOfCapture(lines) {
  for (const [, m] of lines) if (m.stream) return m.stream.split('@')[0]
  throw new Error('capture holds no combined-stream message')
}

function filtersFor(exchange, option) {
  const from = handy.parseAsUTCDate(option.from)
  const mappers = [...getNormalizers(option.dataTypes)].map((n) => n(exchange, from))
  return handy.getFilters(mappers, option.symbols)
}

function writeCache(job, lines, option) {
  const exchange = option.exchange
  const filters = handy.optimizeFilters(JSON.parse(JSON.stringify(filtersFor(exchange, option))))
  const dir = path.join(job.cacheDir, 'feeds', exchange, handy.sha256(filters))
  const wanted = (ch) =>
    ch !== undefined &&
    filters.some((f) => f.channel === ch.channel && (f.symbols === undefined || f.symbols.length === 0 || f.symbols.includes(ch.symbol)))
  const from = handy.parseAsUTCDate(option.from)
  const to = handy.parseAsUTCDate(option.to)
  const slices = new Map()
  for (let t = from.getTime(); t < to.getTime(); t += 60000) slices.set(t, [])
  const gaps = (job.gapsNs || []).map(([a, b]) => [BigInt(a), BigInt(b)])
  const inGap = new Set()
  for (const [ns, message] of lines) {
    const ch = channelOf(message)
    const minute = Number(ns / 60000000000n) * 60000
    const slice = slices.get(minute)
    if (slice === undefined) continue
    const gap = gaps.findIndex(([a, b]) => ns >= a && ns < b)
    if (gap >= 0) {
      if (!inGap.has(gap)) {
        inGap.add(gap)
        slice.push('')
      }
      continue
    }
    if (wanted(ch)) slice.push(`${isoOfNs(ns)} ${JSON.stringify(message)}`)
  }
  for (const [minute, body] of slices) {
    const file = path.join(dir, `${handy.formatDateToPath(new Date(minute))}.json.gz`)
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, zlib.gzipSync(body.map((l) => l + '\n').join('')))
  }
}

// -- the replay, as tardis-machine's /replay-normalized does it ------------------------------

async function run(job, request) {
  const options = Array.isArray(request.options) ? request.options : [request.options]
  const iterables = options.map((option) => {
    const messages = tardis.replayNormalized(option, ...getNormalizers(option.dataTypes))
    const computables = getComputables(option.dataTypes)
    return computables.length > 0 ? tardis.compute(messages, ...computables) : messages
  })
  const keep = dataTypeFilter(options)
  const messages = iterables.length === 1 ? iterables[0] : tardis.combine(...iterables)
  const out = fs.createWriteStream(path.join(job.outDir, `${request.id}.ndjson`))
  let count = 0
  for await (const message of messages) {
    if (!keep(message)) continue
    count++
    if (!out.write(JSON.stringify(message) + '\n')) await new Promise((r) => out.once('drain', r))
  }
  await new Promise((r) => out.end(r))
  return count
}

async function main() {
  const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))
  tardis.init({ cacheDir: job.cacheDir, apiKey: '', endpoint: 'http://127.0.0.1:9' }) // never reached: every slice is cached
  const lines = await readCapture(job.raw)
  const symbol = symbolOfCapture(lines)
  for (const line of lines) if (line[1].stream === null) line[1].stream = `${symbol}@depthSnapshot`
  for (const [ns, message] of job.extra || []) lines.push([BigInt(ns), message])
  lines.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  fs.mkdirSync(job.outDir, { recursive: true })
  const counts = {}
  for (const request of job.requests) {
    const options = Array.isArray(request.options) ? request.options : [request.options]
    for (const option of options) writeCache(job, lines, option)
    counts[request.id] = await run(job, request)
  }
  process.stdout.write(JSON.stringify(counts) + '\n')
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
