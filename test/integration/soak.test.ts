import { describe, expect, it } from 'vitest';
import { KeytarSecretStore } from '../../src-main/platform/keychain/keytar-secret-store';
import { runSoak } from '../../bench/soak/soak';

// Issue 13, item 7: `npm run soak` in small, so the suite keeps its invariants (not its timing).
// The same code as the 60-second run: the real gateway on loopback, a real SQLite file, the
// session's keychain; load clients, long-pollers, chain-gated approvals and redeems at once.
describe('soak, a few seconds of it', () => {
  it('answers every client with a success or the typed 429, approves and redeems, keeps RSS flat and leaves no waiter', async () => {
    const report = await runSoak({
      durationSeconds: 6,
      baselineSeconds: 1,
      clients: 10,
      longPollers: 60,
      waitSeconds: 2,
      rssWindowSeconds: 2,
      factors: 6,
      secrets: (config) => new KeytarSecretStore({ service: config.keychain.service, timeoutMs: 5000 }),
    });
    expect(report.failures).toEqual([]);
    expect(report.counts.socketErrors + report.counts.timeouts).toBe(0);
    expect(Object.keys(report.counts.byStatus).every((s) => ['200', '202', '429'].includes(s))).toBe(true);
    expect(report.counts.approvals).toBeGreaterThan(0);
    expect(report.counts.redeems).toBeGreaterThan(0);
    expect(report.rss.growth).toBeLessThan(0.1);
    expect(report.results.map((r) => r.unit)).toEqual(['ms', 'ms', 'requests/s']);
  }, 120_000);
});
