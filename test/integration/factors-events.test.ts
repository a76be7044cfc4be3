import { afterEach, describe, expect, it } from 'vitest';
import type { EventName } from '../../src-shared/ipc/contract';
import { forwardEvents } from '../../src-main/ipc/events';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';

const SHELL = { source: 'cli' } as const;
let open: TempCustodian[] = [];

afterEach(async () => {
  // The second one shares the first one's directory: close it first, then remove the directory.
  for (const t of open.reverse()) await t.remove();
  open = [];
});

/** The app (the window's process) and a shell's process on the same data directory. */
function appAndShell(): { app: TempCustodian; shell: TempCustodian; events: EventName[] } {
  const app = tempCustodian();
  const shell = tempCustodian({ dir: app.dir });
  open.push(app, shell);
  const events: EventName[] = [];
  forwardEvents(app.custodian, (event) => events.push(event));
  return { app, shell, events };
}

function factorEvents(events: EventName[]): number {
  return events.filter((e) => e === 'factors:changed').length;
}

describe('the Factors screen follows changes made by another process', () => {
  it('raises factors:changed on the next tick after another process enrolls a factor', async () => {
    const { app, shell, events } = appAndShell();
    shell.custodian.mfa.initProfile({ displayName: 'Alice', principal: 'alice@corp', role: 'admin' }, SHELL);
    app.custodian.tick();
    expect(events).toContain('factors:changed');

    events.length = 0;
    const enrollment = await shell.custodian.mfa.startEnrollment({ label: 'Shell phone', digits: 6, period: 30, algorithm: 'SHA1' }, SHELL);
    expect(events).toEqual([]);
    app.custodian.tick();
    expect(factorEvents(events)).toBe(1);
    expect(app.custodian.mfa.listFactors().factors.map((f) => [f.id, f.label, f.state])).toEqual([[enrollment.factor.id, 'Shell phone', 'pending']]);

    // Renamed elsewhere: told again.
    events.length = 0;
    shell.custodian.mfa.renameFactor(enrollment.factor.id, 'Old phone', SHELL);
    app.custodian.tick();
    expect(factorEvents(events)).toBe(1);
  });

  it('stays quiet for another process’s commits that touch no factor', () => {
    const { app, shell, events } = appAndShell();
    shell.custodian.mfa.initProfile({ displayName: 'Alice', principal: 'alice@corp', role: 'admin' }, SHELL);
    app.custodian.tick();
    events.length = 0;

    shell.custodian.integrations.add('restic-nightly', 'cli:alice');
    app.custodian.tick();
    expect(events).toContain('integrations:changed');
    expect(events).not.toContain('factors:changed');
  });
});
