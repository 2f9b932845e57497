// Admin writes while the serve bench runs: a durable create every 10 ms (and a
// revoke of every tenth), through core, in its own process, on the same store,
// until SIGTERM. Prints {"admin_writes":N}. Usage: node bench/serve-admin-writer.js DIR
import { openKeyStore } from '../out/main/core.js'

const store = await openKeyStore({ dataDir: process.argv[2], actor: 'bench-admin' })
let n = 0
const timer = setInterval(() => {
  const k = store.create({ name: `admin-write-${process.pid}-${n}`, owner: 'team-03' })
  if (n % 10 === 0) store.revoke([k.accessId], 'bench')
  n++
}, 10)
process.stdout.write('{"ready":true}\n')
process.on('SIGTERM', () => {
  clearInterval(timer)
  store.close()
  process.stdout.write(JSON.stringify({ admin_writes: n }) + '\n')
  process.exit(0)
})
