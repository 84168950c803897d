// Starts kinesalite 3.3.3 (in memory) on 127.0.0.1 at a port the OS picks and prints
// "kinesalite listening on 127.0.0.1:<port>" on stdout (the test fixture reads the port from that line).
// kinesalite's own CLI listens on all interfaces; its Node API lets us bind loopback only.
// Streams are ACTIVE at once (createStreamMs/deleteStreamMs/updateStreamMs 0) and the shard limit is raised
// to 100 so many small test streams fit. Exits when its stdin closes, so a test host that dies does not
// leave it running.
'use strict'
const path = require('path')
const kinesalite = require(path.join(__dirname, 'node_modules', 'kinesalite'))

const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 })
server.on('error', (err) => {
  console.error('kinesalite failed: ' + err.message)
  process.exit(1)
})
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  console.log('kinesalite listening on ' + address.address + ':' + address.port)
})
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
