import { describe, expect, it } from 'vitest';
import { auditContent, canonicalJson, chainHash, ChainVerifier, GENESIS_HASH, linkPayload, verifyChain, type ChainLink } from '../../src-main/services/audit/audit-chain';
import { maskIp, trimUserAgent } from '../../src-main/services/audit/redaction';

function content(id: number, actor = 'alice@corp'): string {
  return auditContent({ id, ts: `2026-11-24T09:00:0${id % 10}.000Z`, event: 'e', actor, subject: '-', source: '-', userAgent: '-', data: { n: id } });
}

function chain(n: number): ChainLink[] {
  const links: ChainLink[] = [];
  let prev = GENESIS_HASH;
  for (let id = 1; id <= n; id += 1) {
    const hash = chainHash(prev, content(id));
    links.push([id, linkPayload(prev, content(id)), hash]);
    prev = hash;
  }
  return links;
}

describe('the audit hash chain', () => {
  it('hashes the previous hash and the content, SHA-256 hex', () => {
    // Known answer from coreutils: printf '%s\n[]' "$(printf '0%.0s' {1..64})" | sha256sum
    expect(chainHash(GENESIS_HASH, '[]')).toBe('61d6b7dec2b04ce6a07d564fda8533c8721fb30af85045000f1c2c959b3739c2');
  });

  it('sorts keys at every depth, so equal content hashes equally', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: [3, { f: 1, e: 0 }] } })).toBe('{"a":{"c":[3,{"e":0,"f":1}],"d":2},"b":1}');
  });

  it('verifies an intact chain and reports its head', () => {
    const rows = chain(5);
    expect(verifyChain(rows)).toEqual({ ok: true, rows: 5, headId: 5, headHash: rows[4]?.[2] });
    expect(verifyChain([])).toMatchObject({ ok: true, rows: 0, headId: null });
  });

  it('finds an edited row', () => {
    const rows = chain(5);
    rows[2] = [3, linkPayload(rows[1]![2], content(3, 'mallory')), rows[2]![2]];
    expect(verifyChain(rows)).toMatchObject({ ok: false, firstBadId: 3, reason: 'hash-mismatch' });
  });

  it('finds a deleted row at the row after the hole', () => {
    const rows = chain(5);
    rows.splice(1, 1);
    expect(verifyChain(rows)).toMatchObject({ ok: false, firstBadId: 3, reason: 'sequence-gap' });
  });

  it('finds a row whose content moved to another id', () => {
    const rows = chain(5);
    const [a, b] = [rows[1]!, rows[2]!];
    // Row 3's content and hash under id 2, relinked to row 1 so only the hash can tell.
    rows[1] = [2, linkPayload(rows[0]![2], b[1].slice(65)), b[2]];
    rows[2] = [3, a[1], a[2]];
    expect(verifyChain(rows)).toMatchObject({ ok: false, firstBadId: 2 });
  });

  it('finds a link to anything but the whole previous hash, even its first characters', () => {
    const rows = chain(5);
    // A walk that starts after row 2 from a stored hash cut short: row 3's link starts with it.
    const verifier = new ChainVerifier({ id: 2, hash: rows[1]![2].slice(0, 10) });
    verifier.feed(rows.slice(2));
    expect(verifier.verdict()).toMatchObject({ ok: false, firstBadId: 3, reason: 'link-broken' });
    const whole = new ChainVerifier({ id: 2, hash: rows[1]![2] });
    whole.feed(rows.slice(2));
    expect(whole.verdict()).toEqual({ ok: true, rows: 3, headId: 5, headHash: rows[4]![2] });
  });
});

describe('masking what the audit log keeps of a source', () => {
  it('keeps an IPv4 /24 and an IPv6 /48', () => {
    expect(maskIp('192.168.10.23')).toBe('192.168.10.x');
    expect(maskIp('::ffff:10.1.2.3')).toBe('10.1.2.x');
    expect(maskIp('2001:db8:85a3::8a2e:370:7334')).toBe('2001:db8:85a3::/48');
    expect(maskIp('::1')).toBe('0:0:0::/48');
    expect(maskIp(undefined)).toBe('-');
    expect(maskIp('not an address')).toBe('invalid');
  });

  it('trims a user agent and strips control characters', () => {
    expect(trimUserAgent('restic/0.17\r\nX-Forged: 1')).toBe('restic/0.17 X-Forged: 1');
    const long = trimUserAgent('a'.repeat(500));
    expect(long.length).toBe(120);
    expect(long.endsWith('…')).toBe(true);
    expect(trimUserAgent('')).toBe('-');
  });
});
