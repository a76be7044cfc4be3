import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Integration } from '../../src-main/services/gateway/integrations.service';
import { watchTraySummary, type TraySummary } from '../../src-main/services/restore/requests-presenter';
import { validRequest } from '../fixtures/gateway-client';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';

let t: TempCustodian;
let integration: Integration;
let shown: TraySummary[];
let turns: (() => void)[];
let stop: () => void;

beforeEach(() => {
  t = tempCustodian();
  const { key } = t.custodian.integrations.add('restic-nightly', 'alice@corp');
  integration = t.custodian.integrations.authenticate(key);
  shown = [];
  turns = [];
  // The test turns the event loop by hand, so coalescing is exact.
  stop = watchTraySummary({ ...t.custodian, schedule: (fn) => turns.push(fn) }, (s) => shown.push(s));
});
afterEach(async () => {
  stop();
  await t.remove();
});

function turn(): void {
  const due = turns.splice(0);
  for (const fn of due) fn();
}

describe('the tray summary', () => {
  it('starts idle, with the menu in the approver’s language', () => {
    expect(shown).toEqual([{ pending: 0, tooltip: 'Custodian', pendingLine: null, menu: { show: 'Show Custodian', lock: 'Lock now', quit: 'Quit' } }]);
  });

  it('counts a burst of arrivals once, and follows decisions', async () => {
    const created = [];
    for (let i = 0; i < 5; i += 1) created.push(t.custodian.requests.create(integration, { ...validRequest, backupId: `snap-${i}` }));
    const ids = (await Promise.all(created)).map((c) => c.id);
    expect(turns).toHaveLength(1);
    turn();
    expect(shown.at(-1)).toMatchObject({ pending: 5, tooltip: 'Custodian: 5 restore requests waiting', pendingLine: 'Custodian: 5 restore requests waiting' });
    t.custodian.requests.deny(ids[0] as string, 'alice@corp');
    turn();
    expect(shown.at(-1)?.pending).toBe(4);
    t.custodian.requests.report(ids[1] as string, 'alice@corp');
    turn();
    expect(shown.at(-1)).toMatchObject({ pending: 0, tooltip: 'Custodian', pendingLine: null });
    expect(shown.map((s) => s.pending)).toEqual([0, 5, 4, 0]);
  });

  it('counts expiries from the sweeper, and says nothing when nothing changed', async () => {
    await t.custodian.requests.create(integration, validRequest);
    turn();
    expect(shown.at(-1)?.pending).toBe(1);
    t.custodian.tick();
    turn();
    expect(shown).toHaveLength(2);
    t.clock.advanceSeconds(60);
    t.custodian.tick();
    turn();
    expect(shown.at(-1)).toMatchObject({ pending: 0, tooltip: 'Custodian' });
  });

  it('switches language with the settings', async () => {
    await t.custodian.requests.create(integration, validRequest);
    turn();
    t.custodian.settings.setLanguage('tr', 'alice@corp');
    turn();
    expect(shown.at(-1)).toMatchObject({
      pending: 1,
      tooltip: 'Custodian: 1 geri yükleme isteği bekliyor',
      menu: { show: "Custodian'ı göster", lock: 'Şimdi kilitle', quit: 'Çık' },
    });
  });
});

describe('the tray summary in incident mode (issue 11)', () => {
  it('shows incident mode while it is on, as a menu line and in the tooltip, and drops it when it is off', async () => {
    await t.custodian.requests.create(integration, validRequest);
    turn();
    t.custodian.incident.turnOn({ actor: 'alice@corp', source: 'desktop' });
    turn();
    expect(shown.at(-1)).toEqual({
      pending: 1,
      tooltip: 'Custodian: 1 restore request waiting\nIncident mode is on',
      pendingLine: 'Custodian: 1 restore request waiting',
      incidentLine: 'Incident mode is on',
      menu: { show: 'Show Custodian', lock: 'Lock now', quit: 'Quit' },
    });
    t.custodian.settings.setLanguage('tr', 'alice@corp');
    turn();
    expect(shown.at(-1)).toMatchObject({ tooltip: 'Custodian: 1 geri yükleme isteği bekliyor\nOlay modu açık', incidentLine: 'Olay modu açık' });
  });

  it('follows incident mode turned on by another process, on the next tick', () => {
    const other = tempCustodian({ dir: t.dir });
    try {
      other.custodian.incident.turnOn({ actor: 'bob@corp', source: 'cli' });
      t.custodian.tick();
      turn();
      expect(shown.at(-1)).toEqual({ pending: 0, tooltip: 'Custodian\nIncident mode is on', pendingLine: null, incidentLine: 'Incident mode is on', menu: expect.any(Object) });
    } finally {
      void other.close();
    }
  });
});
