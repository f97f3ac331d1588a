// Compares two V8 heap snapshots: node count and self size per constructor (or type for non-objects),
// sorted by the growth in count. `node scripts/heapdiff.mjs before.heapsnapshot after.heapsnapshot [top]`
import * as NodeFs from "node:fs"

const summarize = (file) => {
  const snap = JSON.parse(NodeFs.readFileSync(file, "utf8"))
  const { node_fields: fields, node_types: types } = snap.snapshot.meta
  const width = fields.length
  const typeAt = fields.indexOf("type")
  const nameAt = fields.indexOf("name")
  const sizeAt = fields.indexOf("self_size")
  const typeNames = types[typeAt]
  const byName = new Map()
  let total = 0
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = typeNames[snap.nodes[i + typeAt]]
    const name = type === "object" || type === "closure" ? snap.strings[snap.nodes[i + nameAt]] : `(${type})`
    const key = type === "closure" ? `closure ${name}` : name
    const size = snap.nodes[i + sizeAt]
    total += size
    const entry = byName.get(key) ?? { count: 0, size: 0 }
    entry.count++
    entry.size += size
    byName.set(key, entry)
  }
  return { byName, total }
}

const [a, b, top = "25"] = process.argv.slice(2)
const before = summarize(a)
const after = summarize(b)
console.log(`heap: ${(before.total / 2 ** 20).toFixed(1)} MiB -> ${(after.total / 2 ** 20).toFixed(1)} MiB`)
const rows = [...after.byName].map(([name, x]) => {
  const y = before.byName.get(name) ?? { count: 0, size: 0 }
  return { name, count: x.count, dCount: x.count - y.count, dKiB: Math.round((x.size - y.size) / 1024) }
})
rows.sort((p, q) => q.dCount - p.dCount)
for (const r of rows.slice(0, Number(top)))
  console.log(
    `${String(r.dCount).padStart(8)} ${String(r.dKiB).padStart(8)} KiB  ${r.count.toString().padStart(8)}  ${r.name.slice(0, 80)}`
  )
