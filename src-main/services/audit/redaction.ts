import { isIP } from 'node:net';

/**
 * Masks an address before it reaches the audit log (seed 003, KVKK): an IPv4 address keeps its
 * /24, an IPv6 address its /48. Enough to tell sources apart, not to identify a host.
 */
export function maskIp(address: string | undefined | null): string {
  if (!address) return '-';
  const plain = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  switch (isIP(plain)) {
    case 4: {
      const [a, b, c] = plain.split('.');
      return `${a}.${b}.${c}.x`;
    }
    case 6: {
      const head = expandIpv6(plain).slice(0, 3).join(':');
      return `${head}::/48`;
    }
    default:
      return 'invalid';
  }
}

function expandIpv6(address: string): string[] {
  const [left = '', right = ''] = address.split('::');
  const l = left ? left.split(':') : [];
  const r = right ? right.split(':') : [];
  const fill = address.includes('::') ? Array(8 - l.length - r.length).fill('0') : [];
  return [...l, ...fill, ...r].map((g) => g.replace(/^0+(?=.)/, '').toLowerCase());
}

const USER_AGENT_MAX = 120;

/** Keeps a user agent short and printable: control characters could forge lines in an export. */
export function trimUserAgent(userAgent: string | undefined | null): string {
  if (!userAgent) return '-';
  // eslint-disable-next-line no-control-regex
  const printable = userAgent.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return printable.length > USER_AGENT_MAX ? `${printable.slice(0, USER_AGENT_MAX - 1)}…` : printable || '-';
}
