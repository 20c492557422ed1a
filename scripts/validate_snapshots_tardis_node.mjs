// Feeds book_change messages (NDJSON from `replayterm serve`'s stream) to tardis-node's own
// computeBookSnapshots and prints the snapshots it computes, one JSON line each, with times as
// µs since the epoch. Used by validate_snapshots_tardis_node.py; needs `npm install tardis-dev`.
// usage: node validate_snapshots_tardis_node.mjs BOOK_CHANGES.ndjson DEPTH INTERVAL_MS [GROUPING]
// (disconnect messages in the file are passed through: tardis-node restarts its computations there)
import { createRequire } from 'node:module'
import fs from 'node:fs'
import readline from 'node:readline'

const require = createRequire(process.env.TARDIS_DEV_DIR ? process.env.TARDIS_DEV_DIR + '/' : import.meta.url)
const { compute, computeBookSnapshots } = require('tardis-dev')

const [file, depth, interval, grouping] = process.argv.slice(2)

function toDate(iso) {
  // "2024-07-19T00:00:00.123456Z" -> Date (ms) with tardis-node's extra µs field
  const date = new Date(iso.slice(0, 23) + 'Z')
  date.μs = Number(iso.slice(23, 26))
  return date
}

const toMicros = (date) => date.valueOf() * 1000 + (date.μs || 0)

async function* bookChanges() {
  const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity })
  for await (const line of lines) {
    if (!line) continue
    const m = JSON.parse(line)
    if (m.type !== 'book_change' && m.type !== 'disconnect') continue
    if (m.timestamp) m.timestamp = toDate(m.timestamp)
    m.localTimestamp = toDate(m.localTimestamp)
    yield m
  }
}

const options = { depth: Number(depth), interval: Number(interval), removeCrossedLevels: true }
if (grouping && Number(grouping) > 0) options.grouping = Number(grouping)
const out = []
for await (const m of compute(bookChanges(), computeBookSnapshots(options))) {
  if (m.type !== 'book_snapshot') continue
  out.push(
    JSON.stringify({
      bids: m.bids.map((l) => (l.price === undefined ? null : [l.price, l.amount])),
      asks: m.asks.map((l) => (l.price === undefined ? null : [l.price, l.amount])),
      timestamp: toMicros(m.timestamp),
      localTimestamp: toMicros(m.localTimestamp)
    })
  )
  if (out.length >= 10000) {
    process.stdout.write(out.join('\n') + '\n')
    out.length = 0
  }
}
if (out.length) process.stdout.write(out.join('\n') + '\n')
