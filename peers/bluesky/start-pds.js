#!/usr/bin/env node
// A real AT Protocol PDS for outreach's tests, fully offline: an in-memory PLC directory
// (@did-plc/server) and @atproto/pds with SQLite and disk blobs in a temporary directory.
//
//   node start-pds.js [--port 2583] [--plc-port 2582] [--dir /tmp/x] [--admin-password secret]
//
// Prints one line `PDS ready {"url": ..., "plc": ..., "adminPassword": ...}` on stdout when both
// listen (then poll GET /xrpc/_health), and shuts both down cleanly on SIGTERM or SIGINT.
'use strict'

const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`)
  return at > 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback
}

async function main() {
  const port = Number(option('port', 2583))
  const plcPort = Number(option('plc-port', 2582))
  const given = option('dir', '')
  const dir = given || fs.mkdtempSync(path.join(os.tmpdir(), 'outreach-pds-'))
  const adminPassword = option('admin-password', crypto.randomBytes(16).toString('hex'))
  fs.mkdirSync(path.join(dir, 'blobs'), { recursive: true })

  const { PlcServer, Database: PlcDatabase } = require('@did-plc/server')
  const plc = PlcServer.create({ db: PlcDatabase.mock(), port: plcPort })
  await plc.start()

  Object.assign(process.env, {
    PDS_HOSTNAME: 'localhost',
    PDS_PORT: String(port),
    PDS_DATA_DIRECTORY: dir,
    PDS_BLOBSTORE_DISK_LOCATION: path.join(dir, 'blobs'),
    PDS_JWT_SECRET: crypto.randomBytes(32).toString('hex'),
    PDS_ADMIN_PASSWORD: adminPassword,
    PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: crypto.randomBytes(32).toString('hex'),
    PDS_DPOP_SECRET: crypto.randomBytes(32).toString('hex'),
    PDS_DID_PLC_URL: `http://127.0.0.1:${plcPort}`,
    PDS_INVITE_REQUIRED: 'false',
    PDS_DEV_MODE: 'true',
    PDS_CRAWLERS: '',
    LOG_ENABLED: process.env.LOG_ENABLED || 'false',
  })
  const { PDS, envToCfg, envToSecrets, readEnv } = require('@atproto/pds')
  const env = readEnv()
  const pds = await PDS.create(envToCfg(env), envToSecrets(env))
  await pds.start()

  let stopping = false
  const stop = async (signal) => {
    if (stopping) return
    stopping = true
    try {
      await pds.destroy()
      await plc.destroy()
    } finally {
      if (!given) fs.rmSync(dir, { recursive: true, force: true })
      process.stderr.write(`PDS stopped (${signal})\n`)
      process.exit(0)
    }
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))

  const ready = { url: `http://localhost:${port}`, plc: `http://127.0.0.1:${plcPort}`, dir, adminPassword }
  process.stdout.write(`PDS ready ${JSON.stringify(ready)}\n`)
}

main().catch((err) => {
  process.stderr.write(`PDS failed to start: ${err && err.stack ? err.stack : err}\n`)
  process.exit(1)
})
