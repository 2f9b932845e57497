// The ceiling for a Node HTTP endpoint: node:http answering 204 to everything,
// nothing else. Prints {"listening":URL}. Usage: node bench/serve-ceiling.js
import { createServer } from 'node:http'

const server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
  res.writeHead(204)
  res.end()
})
server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ listening: `http://127.0.0.1:${server.address().port}` }) + '\n'))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
