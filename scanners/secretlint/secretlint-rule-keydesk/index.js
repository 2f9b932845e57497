/**
 * secretlint rule: KeyDesk access keys. Reports a string of access-key shape
 * ("kdsk_" + 32 base62 + 6 base62 of CRC32 over what precedes them) only when its
 * checksum is valid, so look-alikes and typos are not reported. Access IDs
 * (kdid_…) are identifiers, not secrets, and are never reported. The
 * documentation's example key (kdsk_EXAMPLE0EXAMPLE0…) is allowed, as is any
 * string matched by the `allows` option (secretlint's usual regexp strings).
 *
 *   .secretlintrc.json: { "rules": [{ "id": "secretlint-rule-keydesk" }] }
 */
import { crc32 } from 'node:zlib'

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const KEY = /(?<![0-9A-Za-z])kdsk_[0-9A-Za-z]{38}(?![0-9A-Za-z])/g
const DOCS_EXAMPLE = /^kdsk_(?:EXAMPLE0){4}[0-9A-Za-z]{6}$/

function checksum(body) {
  let v = crc32(body) >>> 0
  let s = ''
  for (let i = 0; i < 6; i++) {
    s = ALPHABET[v % 62] + s
    v = Math.floor(v / 62)
  }
  return s
}

export function isKeydeskAccessKey(s) {
  return /^kdsk_[0-9A-Za-z]{38}$/.test(s) && checksum(s.slice(0, -6)) === s.slice(-6)
}

function toRegExp(str) {
  const m = /^\/(.*)\/([a-z]*)$/s.exec(str)
  return m ? new RegExp(m[1], m[2].replace('g', '')) : new RegExp(str.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
}

export const messages = {
  KEYDESK_ACCESS_KEY: {
    en: (props) => `found KeyDesk access key: ${props.KEY} (run \`keydesk scan\` to name it, then reset or revoke it)`,
  },
}

export const creator = {
  messages,
  meta: {
    id: 'secretlint-rule-keydesk',
    recommended: true,
    type: 'scanner',
    supportedContentTypes: ['text'],
  },
  create(context, options = {}) {
    const t = context.createTranslator(messages)
    const allows = (options.allows ?? []).map(toRegExp)
    return {
      file(source) {
        const text = source.content
        if (!text.includes('kdsk_')) return
        for (const m of text.matchAll(KEY)) {
          const key = m[0]
          if (!isKeydeskAccessKey(key) || DOCS_EXAMPLE.test(key) || allows.some((re) => re.test(key))) continue
          context.report({ message: t('KEYDESK_ACCESS_KEY', { KEY: key }), range: [m.index, m.index + key.length] })
        }
      },
    }
  },
}
