/**
 * The CLI's I/O edges with the real `keydesk` process in real shell pipelines:
 * slow and huge stdin for verify, a reader that goes away (EPIPE), control
 * characters in text output, credential targets that must not be replaced, a full
 * disk, a placement that fails after the commit (strace fault injection), and a
 * locked keyring (its own private gnome-keyring, so locking it disturbs no other test).
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PRIVATE_KEYRING } from '../private-keyring'
import { tempDir } from '../helpers'
import { BIN, ROOT, cli, createJson, verifyKey } from './cli-helpers'

/**
 * Run a bash script in its own D-Bus session with its own unlocked gnome-keyring,
 * and stop that daemon afterwards (a daemon left behind would hold our pipes open).
 */

const cleanups: (() => void)[] = []
afterAll(() => cleanups.reverse().forEach((c) => c()))
function freshDir(): string {
  const t = tempDir('keydesk-cli-io-')
  cleanups.push(t.cleanup)
  return t.dir
}

/** Run a bash script; $KD is the real CLI (Node 22 + bin/keydesk.js). */
function sh(script: string, env: Record<string, string> = {}, timeout = 60_000): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-c', script], {
    encoding: 'utf8',
    cwd: ROOT,
    timeout,
    env: { ...process.env, KD: `${process.execPath} ${BIN}`, ...env },
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l !== '')
  expect(lines, stderr).toHaveLength(1)
  expect(stderr).not.toMatch(/\n\s+at |Error:|node:internal/)
  return lines[0]!
}

function keyCount(dataDir: string): number {
  const db = new Database(join(dataDir, 'keydesk.sqlite'), { readonly: true })
  try {
    return db.prepare('SELECT count(*) FROM keys').pluck().get() as number
  } finally {
    db.close()
  }
}

let dir: string
let key: { accessId: string; accessKey: string }
beforeAll(() => {
  dir = freshDir()
  key = createJson(dir, ['--name', 'io'])
})

describe('verify reads the key from stdin: waits for it, at most 4 KiB', () => {
  it('(sleep 1; printf KEY) | keydesk verify → valid (no EAGAIN)', () => {
    const r = sh(`(sleep 1; printf %s "$KEY") | $KD --data-dir "$DIR" verify`, { KEY: key.accessKey, DIR: dir })
    expect(r.stderr).toBe('')
    expect(r.stdout).toMatch(new RegExp(`^valid: ${key.accessId} owner=\\S+ scopes=\\(none\\)\\n$`))
    expect(r.code).toBe(0)
    const j = sh(`(sleep 0.5; printf '%s\\n' "$KEY"; sleep 0.5) | $KD --data-dir "$DIR" --json verify`, { KEY: key.accessKey, DIR: dir })
    expect(JSON.parse(j.stdout).valid).toBe(true)
  })

  it('400 MB on stdin → one-line "too long" (exit 2), and the writer is cut off after a bounded amount', () => {
    const count = join(freshDir(), 'written')
    // The writer counts what the pipe accepted until it got EPIPE (stdin closed by keydesk).
    const writer = `const fs=require('fs');const b=Buffer.alloc(65536,97);let n=0;try{while(n<400e6){try{n+=fs.writeSync(1,b)}catch(e){if(e.code==='EAGAIN')continue;throw e}}}catch(e){fs.writeFileSync(process.argv[1],e.code+' '+n);process.exit(0)}fs.writeFileSync(process.argv[1],'ALL '+n)`
    const r = sh(`"${process.execPath}" -e "$W" "$COUNT" | $KD --data-dir "$DIR" verify; echo "rc=\${PIPESTATUS[1]}"`, { W: writer, COUNT: count, DIR: dir })
    expect(oneLine(r.stderr)).toBe('keydesk: The key on stdin is too long: at most 4096 bytes.')
    expect(r.stdout).toBe('rc=2\n')
    const [how, n] = readFileSync(count, 'utf8').split(' ')
    expect(how).toBe('EPIPE')
    // what keydesk read (one pipe read, at most 64 KiB) plus what the pipe buffers — far below 400 MB
    expect(Number(n)).toBeLessThan(1024 * 1024)
  })

  it('exactly 4096 bytes are accepted; 4097 are refused', () => {
    const ok = cli(dir, ['--json', 'verify'], { input: key.accessKey + ' '.repeat(4096 - key.accessKey.length) })
    expect(JSON.parse(ok.stdout).valid).toBe(true)
    const long = cli(dir, ['verify'], { input: key.accessKey + ' '.repeat(4097 - key.accessKey.length) })
    expect(long.code).toBe(2)
    expect(oneLine(long.stderr)).toMatch(/too long/)
  })
})

describe('a reader that goes away (EPIPE) ends the command quietly', () => {
  let big: string
  beforeAll(() => {
    const work = freshDir()
    big = join(work, 'store') // a store is created only in a new or empty directory
    const csv = ['Name,Owner', ...Array.from({ length: 3000 }, (_, i) => `key-${i},bulk`)].join('\n')
    writeFileSync(join(work, 'in.csv'), csv)
    expect(cli(big, ['owner', 'add', 'bulk']).code).toBe(0)
    expect(cli(big, ['policy', 'set', 'max-keys-per-owner', '5000']).code).toBe(0)
    const r = cli(big, ['import', '--csv', join(work, 'in.csv'), '--out', join(work, 'creds.csv')])
    expect(r.stderr).toBe('')
  })

  it('keydesk list | head -1 → the header, exit 0, nothing on stderr', () => {
    const r = sh(`$KD --data-dir "$DIR" list | head -1; echo "rc=\${PIPESTATUS[0]}"`, { DIR: big })
    expect(r.stderr).toBe('')
    expect(r.stdout).toMatch(/^NAME\s+ACCESS ID\s+OWNER\s+STATUS\s+EXPIRES\nrc=0\n$/)
  })

  it('--json list and audit into a closed pipe: quiet, exit 0', () => {
    for (const cmd of ['--json list', 'audit --limit 1000', 'owner list']) {
      const r = sh(`$KD --data-dir "$DIR" ${cmd} | sh -c 'exec <&-; sleep 1'; echo "rc=\${PIPESTATUS[0]}"`, { DIR: big })
      expect(r.stderr, cmd).toBe('')
      expect(r.stdout, cmd).toBe('rc=0\n')
    }
  })

  it('create into a closed pipe: the one-time secret could not be shown → says so, exit 3', () => {
    const r = sh(`$KD --data-dir "$DIR" create --name lost | sh -c 'exec <&-; sleep 1'; echo "rc=\${PIPESTATUS[0]}"`, { DIR: big })
    expect(oneLine(r.stderr)).toMatch(/standard output was closed before the access key could be read.*reset the key/)
    expect(r.stdout).toBe('rc=3\n')
  })
})

describe('text output escapes control characters; JSON stays JSON', () => {
  it('a description with a line break or U+2028 cannot forge lines in show', () => {
    const d = 'first line\nStatus:       revoked\u2028Owner: admin\tend'
    const k = createJson(dir, ['--name', 'forge', '--description', d])
    const r = cli(dir, ['show', k.accessId])
    expect(r.code).toBe(0)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines.filter((l) => l.startsWith('Status:'))).toEqual(['Status:       active'])
    expect(lines).toContain('Description:  first line\\nStatus:       revoked\\u2028Owner: admin\\tend')
    expect(r.stdout).not.toMatch(/[\u2028\t]/)
    const j = cli(dir, ['--json', 'show', k.accessId])
    expect(JSON.parse(j.stdout).description).toBe(d)
  })

  it('an ANSI escape or line break written into the database is shown escaped by list and show', () => {
    const d = freshDir()
    const k = createJson(d, ['--name', 'plain'])
    const db = new Database(join(d, 'keydesk.sqlite'))
    db.prepare('UPDATE keys SET name = ? WHERE access_id = ?').run('evil\x1b[2J\x1b[31m\nkdid_FAKE  root  active', k.accessId)
    db.close()
    const list = cli(d, ['list'])
    expect(list.stdout).not.toContain('\x1b')
    const rows = list.stdout.trimEnd().split('\n')
    expect(rows).toHaveLength(2) // header + one key
    expect(rows[1]).toContain('evil\\x1b[2J\\x1b[31m\\nkdid_FAKE')
    const show = cli(d, ['show', k.accessId])
    expect(show.stdout).toContain('Name:         evil\\x1b[2J\\x1b[31m\\nkdid_FAKE  root  active\n')
    expect(show.stdout).not.toContain('\x1b')
    const json = cli(d, ['--json', 'list'])
    expect((JSON.parse(json.stdout) as { name: string }[])[0]!.name).toBe('evil\x1b[2J\x1b[31m\nkdid_FAKE  root  active')
  })

  it('an error message quoting user input is one escaped line', () => {
    const r = cli(dir, ['policy', 'set', 'no\x1b[31msuch\nkeydesk: forged', '1'])
    expect(r.code).toBe(2)
    expect(oneLine(r.stderr)).toContain('Unknown policy "no\\x1b[31msuch\\nkeydesk: forged"')
    const w = cli(dir, ['list', '--expiring-within', '7\rkeydesk: forged'])
    expect(w.code).toBe(2)
    expect(oneLine(w.stderr)).toContain('"7\\rkeydesk: forged"')
  })
})

describe('credential targets: never replaced, never followed; failures after the commit reported', () => {
  it('--csv to an existing file, a symlink, a directory, /dev/null → exit 2 naming the path; nothing issued', () => {
    const d = freshDir()
    createJson(d, ['--name', 'first'])
    writeFileSync(join(d, 'earlier.csv'), 'earlier batch\n')
    symlinkSync('/dev/null', join(d, 'link.csv'))
    mkdirSync(join(d, 'dir.csv'))
    const before = keyCount(d)
    for (const target of [join(d, 'earlier.csv'), join(d, 'link.csv'), join(d, 'dir.csv'), '/dev/null']) {
      for (const args of [['create', '--name', 'x', '--csv', target], ['reset', 'first', '--confirm', 'first', '--csv', target], ['export', '--csv', target]]) {
        const r = cli(d, args)
        expect(r.code, `${args.join(' ')}`).toBe(2)
        expect(oneLine(r.stderr)).toContain(`${target} already exists`)
      }
    }
    expect(keyCount(d)).toBe(before)
    expect(readFileSync(join(d, 'earlier.csv'), 'utf8')).toBe('earlier batch\n')
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true)
  })

  it('import --out on a full disk → "disk full", exit 2, nothing issued, no partial file', (ctx) => {
    const d = freshDir()
    const mnt = join(d, 'small')
    mkdirSync(mnt)
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt], { encoding: 'utf8' })
    if (m.status !== 0) {
      console.log(`SKIPPED disk-full CLI test: cannot mount a tmpfs here (${m.stderr.trim() || m.error})`)
      ctx.skip()
      return
    }
    cleanups.push(() => spawnSync('umount', [mnt]))
    writeFileSync(join(d, 'in.csv'), ['Name', ...Array.from({ length: 2000 }, (_, i) => `row-${i}`)].join('\n'))
    const store = join(d, 'store')
    createJson(store, ['--name', 'first'])
    expect(cli(store, ['policy', 'set', 'max-keys-per-owner', '5000']).code).toBe(0)
    const r = cli(store, ['import', '--csv', join(d, 'in.csv'), '--out', join(mnt, 'creds.csv')])
    expect(r.code).toBe(2)
    expect(oneLine(r.stderr)).toMatch(/disk is full/)
    expect(readdirSync(mnt)).toEqual([])
    expect(keyCount(store)).toBe(1)
  })

  it('a data dir on a full disk → exit 3, one line that says the disk is full; nothing issued', (ctx) => {
    const mnt = join(freshDir(), 'store')
    mkdirSync(mnt)
    // mode=700: a data dir must not be writable by others (a tmpfs root is 1777 by default)
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=700', 'tmpfs', mnt], { encoding: 'utf8' })
    if (m.status !== 0) {
      console.log(`SKIPPED disk-full store test: cannot mount a tmpfs here (${m.stderr.trim() || m.error})`)
      ctx.skip()
      return
    }
    cleanups.push(() => spawnSync('umount', [mnt]))
    createJson(mnt, ['--name', 'first'])
    spawnSync('sh', ['-c', `dd if=/dev/zero of="${mnt}/fill" bs=4k 2>/dev/null; true`])
    for (const args of [['create', '--name', 'second'], ['create', '--name', 'third', '--description', 'x'.repeat(1000)]]) {
      const r = cli(mnt, args)
      expect(r.code).toBe(3)
      expect(oneLine(r.stderr)).toMatch(/disk (holding the key store )?is full/)
    }
    // a write that SQLite reports as SQLITE_FULL
    spawnSync('sh', ['-c', `rm "${mnt}/fill"; head -c 900000 /dev/zero > "${mnt}/fill"`])
    const r = cli(mnt, ['create', '--name', 'fourth'])
    if (r.code !== 0) {
      expect(r.code).toBe(3)
      expect(oneLine(r.stderr)).toMatch(/disk (holding the key store )?is full/)
    }
    spawnSync('rm', ['-f', join(mnt, 'fill')])
    expect(keyCount(mnt)).toBe(r.code === 0 ? 2 : 1)
  })

  it('the placement fails (link → EIO, strace fault injection) → exit 3, one line, no file, no temporary file, nothing issued or reset', (ctx) => {
    const probe = spawnSync('strace', ['-f', '-qq', '-o', '/dev/null', '-e', 'trace=link,linkat', '-e', 'inject=link,linkat:error=EIO', 'ln', '/etc/hostname', join(freshDir(), 'x')])
    if (probe.error || probe.status === 0) {
      console.log(`SKIPPED delivery-failure CLI test: strace fault injection is not available here (${probe.error ?? 'ln succeeded'})`)
      ctx.skip()
      return
    }
    const d = freshDir()
    const first = createJson(d, ['--name', 'first'])
    const out = join(d, 'out')
    mkdirSync(out)
    const fault = `strace -f -qq -o /dev/null -e trace=link,linkat -e inject=link,linkat:error=EIO $KD --data-dir "$DIR"`
    const r = sh(`${fault} create --name late --csv "$OUT/creds.csv"`, { DIR: d, OUT: out })
    expect(r.code, r.stderr).toBe(3)
    expect(oneLine(r.stderr)).toMatch(new RegExp(`Could not deliver ${out}/creds\\.csv: an input/output error \\(EIO\\)`))
    expect(r.stdout).not.toMatch(/kdsk_/) // the secret was not printed as if delivered
    expect(readdirSync(out)).toEqual([])
    // the delivery is part of the transaction: nothing was issued
    expect(keyCount(d)).toBe(1)
    // a reset whose CSV cannot be placed leaves the old secret working and no new one
    const rr = sh(`${fault} reset first --confirm first --csv "$OUT/reset.csv"`, { DIR: d, OUT: out })
    expect(rr.code, rr.stderr).toBe(3)
    expect(readdirSync(out)).toEqual([])
    expect(verifyKey(d, first.accessKey)).toMatchObject({ valid: true })
    const audit = JSON.parse(cli(d, ['--json', 'audit', '--limit', '5']).stdout) as { action: string }[]
    expect(audit.map((e) => e.action)).not.toContain('key.reset')
    expect(audit.map((e) => e.action)).not.toContain('credentials.export')
  })
})

describe('a locked keyring is reported as locked, not as a missing entry', () => {
  it('list/verify/create on a locked login keyring → exit 3 "keychain is locked", never "no entry … restore"', () => {
    const work = freshDir()
    const d = join(work, 'store')
    const fresh = join(work, 'fresh')
    mkdirSync(fresh)
    const LOCK = `dbus-send --session --dest=org.freedesktop.secrets --type=method_call --print-reply /org/freedesktop/secrets org.freedesktop.Secret.Service.Lock array:objpath:/org/freedesktop/secrets/collection/login >/dev/null`
    const script = `
      set -u
      $KD --data-dir "$DIR" create --name before >/dev/null 2>"$WORK/err" || { echo "create failed|$?|$(cat "$WORK/err")"; exit 9; }
      ${LOCK}
      for cmd in list "verify --key kdsk_x" "create --name after"; do
        $KD --data-dir "$DIR" $cmd >/dev/null 2>"$WORK/err"; echo "$cmd|$?|$(cat "$WORK/err")"
      done
      $KD --data-dir "$FRESH" create --name first >/dev/null 2>"$WORK/err"; echo "fresh|$?|$(cat "$WORK/err")"
    `
    const r = spawnSync('bash', ['-c', PRIVATE_KEYRING, 'sh', script], {
      encoding: 'utf8',
      cwd: ROOT,
      timeout: 60_000,
      env: { ...process.env, KD: `${process.execPath} ${BIN}`, DIR: d, FRESH: fresh, WORK: work },
    })
    const rows = r.stdout.trim().split('\n').map((l) => l.split('|'))
    expect(rows.map((x) => x[0]), r.stdout + r.stderr).toEqual(['list', 'verify --key kdsk_x', 'create --name after', 'fresh'])
    for (const [cmd, code, msg] of rows) {
      expect(code, cmd).toBe('3')
      expect(msg, cmd).toMatch(/^keydesk: The OS keychain is locked/)
      expect(msg, cmd).toMatch(/Unlock it/)
      expect(msg, cmd).not.toMatch(/no entry|restore/i)
    }
    expect(existsSync(join(fresh, 'keydesk.sqlite')) ? keyCount(fresh) : 0).toBe(0)
  })
})
