import { describe, expect, it } from 'vitest';
import { TestClock } from '../../src-main/clock';
import { RateLimiter } from '../../src-main/services/gateway/rate-limiter';
import { RequestWaiters } from '../../src-main/services/restore/request-waiters';
import { createRestoreRequestBodySchema, normalizeSensitivity, requestIdParamsSchema, revealHidden } from '../../src-shared/domain/restore-request';
import { pooledRandomBase64url } from '../../src-main/platform/random';

describe('the token bucket', () => {
  it('allows a burst, then refills on the injected clock and says when to retry', () => {
    const clock = new TestClock();
    const limiter = new RateLimiter(clock, { burst: 3, refillPerMinute: 6 });
    expect([1, 2, 3].map(() => limiter.take('a').ok)).toEqual([true, true, true]);
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterSeconds: 10 });
    expect(limiter.take('b').ok).toBe(true);
    clock.advanceSeconds(10);
    expect(limiter.take('a').ok).toBe(true);
    expect(limiter.take('a').ok).toBe(false);
  });
});

describe('the long-poll waiters', () => {
  it('wake by id, time out on a sweep, and cancel, with no timer of their own', async () => {
    const waiters = new RequestWaiters();
    const log: string[] = [];
    const a = waiters.wait('r1', 1000);
    const b = waiters.wait('r1', 5000);
    const c = waiters.wait('r2', 2000);
    const d = waiters.wait('r3', 9000);
    void a.promise.then(() => log.push('a'));
    void b.promise.then(() => log.push('b'));
    void c.promise.then(() => log.push('c'));
    void d.promise.then(() => log.push('d'));
    expect(waiters.size).toBe(4);
    waiters.sweep(1500);
    d.cancel();
    waiters.wake('r1');
    await Promise.all([a.promise, b.promise, d.promise]);
    expect(log.sort()).toEqual(['a', 'b', 'd']);
    expect(waiters.ids()).toEqual(['r2']);
    waiters.wakeAll();
    await c.promise;
    expect(waiters.size).toBe(0);
  });
});

describe('sensitivity', () => {
  it('counts an unknown or missing level as critical', () => {
    expect(normalizeSensitivity('LOW')).toBe('low');
    expect(normalizeSensitivity('urgent')).toBe('critical');
    expect(normalizeSensitivity(undefined)).toBe('critical');
  });
});

describe('pooled random ids', () => {
  it('never repeats an id across pool refills, and passes the request id schema', () => {
    // 12 bytes an id: 1,000 ids drain the 4 KiB pool almost three times over.
    const ids = Array.from({ length: 1000 }, () => `req_${pooledRandomBase64url(12)}`);
    expect(new Set(ids).size).toBe(1000);
    for (const id of ids) expect(requestIdParamsSchema.safeParse({ id }).success).toBe(true);
    // Every byte value turns up: the ids are random bytes, not a counter or a repeat of one block.
    const bytes = Buffer.concat(ids.map((id) => Buffer.from(id.slice(4), 'base64url')));
    expect(bytes).toHaveLength(12_000);
    expect(new Set(bytes).size).toBe(256);
  });
});

describe('hidden characters (issue 9)', () => {
  it('are refused by the shared request schema, which the gateway, IPC and the CLI all use', () => {
    const body = { requester: 'backup@db1', backupId: 'snap-1', reason: 'drill', target: '/home/alice/restore-tmp/\u202Ewodahs/cte/' };
    const parsed = createRestoreRequestBodySchema.safeParse(body);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['target']);
    expect(createRestoreRequestBodySchema.safeParse({ ...body, target: '/home/alice/restore-tmp/shadow' }).success).toBe(true);
  });

  it('are shown as visible code points when old rows carry them', () => {
    expect(revealHidden('/home/alice/restore-tmp/\u202Ewodahs/cte/')).toBe('/home/alice/restore-tmp/⟨U+202E⟩wodahs/cte/');
    expect(revealHidden('a\u200Bb\u0000c')).toBe('a⟨U+200B⟩b⟨U+0000⟩c');
    expect(revealHidden('Geri yükleme — استعادة')).toBe('Geri yükleme — استعادة');
  });
});
