#!/usr/bin/env node
// The keydesk CLI. Runs the build output (npm install builds it; npm run build rebuilds).
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const major = Number(process.versions.node.split('.')[0])
if (major < 22) {
  process.stderr.write(
    `keydesk: needs Node 22 or later (this is ${process.version}); run it as "npx keydesk" from the project, which uses the project's Node 22.\n`,
  )
  process.exit(3)
}
const cli = fileURLToPath(new URL('../out/main/cli.js', import.meta.url))
if (!existsSync(cli)) {
  process.stderr.write('keydesk: the CLI is not built yet; run "npm run build" in the project first.\n')
  process.exit(3)
}
await import(cli)
