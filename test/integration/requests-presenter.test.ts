import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Language } from '../../src-shared/i18n';
import { TestClock } from '../../src-main/clock';
import type { Integration } from '../../src-main/services/gateway/integrations.service';
import { NOTIFY_WINDOW_MS, RequestNotices } from '../../src-main/services/restore/requests-presenter';
import type { RequestsChange } from '../../src-main/services/restore/restore-requests.service';
import { validRequest } from '../fixtures/gateway-client';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';

// The presenter (issue 11): the arrival notices live apart from the request lifecycle, fed only
// by its change events.
const arrival = (requester: string): RequestsChange => ({
  kind: 'arrived',
  id: `req_${requester}`,
  arrival: { integrationName: 'restic-nightly', requester, backupId: 'snap-1', target: '/srv/restore', sensitivity: 'critical' },
});

describe('the arrival notices', () => {
  let clock: TestClock;
  let notices: { title: string; body: string }[];
  let language: Language;
  let presenter: RequestNotices;

  beforeEach(() => {
    clock = new TestClock(Date.UTC(2026, 10, 24, 9, 0, 0));
    notices = [];
    language = 'en';
    presenter = new RequestNotices({ clock, notifier: { notify: (n) => notices.push(n) }, language: () => language });
  });

  it('tells an arrival at once, in the approver’s language, and nothing of other changes', () => {
    presenter.onChange({ kind: 'changed', id: 'req_x' });
    presenter.onChange({ kind: 'changed', id: null });
    expect(notices).toEqual([]);
    presenter.onChange(arrival('backup@db1'));
    expect(notices).toEqual([{ title: 'Restore request from backup@db1', body: 'snap-1 → /srv/restore (Critical), via restic-nightly' }]);
    language = 'tr';
    clock.advance(NOTIFY_WINDOW_MS);
    presenter.onChange(arrival('backup@db2'));
    expect(notices[1]?.title).toBe('backup@db2 kullanıcısından geri yükleme isteği');
  });

  it('holds back the rest of a burst and tells it as one notice once the window has passed', () => {
    for (const who of ['a@x', 'b@x', 'c@x']) presenter.onChange(arrival(who));
    expect(notices).toHaveLength(1);
    clock.advance(NOTIFY_WINDOW_MS - 1);
    presenter.flush();
    expect(notices).toHaveLength(1);
    clock.advance(1);
    presenter.flush();
    expect(notices[1]).toEqual({ title: 'More restore requests', body: '2 more restore requests arrived; the desk lists them all.' });
    presenter.flush();
    expect(notices).toHaveLength(2);
  });

  it('never fails the arrival when the notice cannot be shown', () => {
    const failing = new RequestNotices({ clock, notifier: { notify: () => { throw new Error('no notification daemon'); } }, language: () => 'en' });
    expect(() => failing.onChange(arrival('backup@db1'))).not.toThrow();
  });
});

describe('the notices, composed', () => {
  let t: TempCustodian;
  let integration: Integration;
  let notices: { title: string; body: string }[];

  beforeEach(() => {
    notices = [];
    t = tempCustodian({ notifier: { notify: (n) => notices.push(n) } });
    integration = t.custodian.integrations.authenticate(t.custodian.integrations.add('restic-nightly', 'alice@corp').key);
  });
  afterEach(async () => {
    await t.remove();
  });

  it('follow the requests service’s arrivals, not its decisions or expiries', async () => {
    const { id } = await t.custodian.requests.create(integration, validRequest);
    expect(notices).toEqual([{ title: 'Restore request from backup@db1', body: 'snap-2026-11-24 → /srv/restore/db (High), via restic-nightly' }]);
    t.custodian.requests.deny(id, 'alice@corp');
    t.clock.advanceSeconds(2);
    await t.custodian.requests.create(integration, validRequest);
    t.clock.advanceSeconds(60);
    t.custodian.tick();
    expect(notices).toHaveLength(2);
  });
});
