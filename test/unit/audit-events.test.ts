import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUDIT_EVENTS } from '../../src-shared/domain/audit';
import type { AuditInput } from '../../src-main/services/audit/audit.service';
import { catalogs, LANGUAGES } from '../../src-shared/i18n';

const root = join(__dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

// The audit module passes its callers' names through; these files read audit rows back, name IPC events or
// declare types: none of them chooses an audit event itself. mfa-context.ts builds MFA rows from a
// name typed `AuditEvent`, which its callers give as a literal.
const PASS_THROUGH = ['src-main/services/mfa/mfa-context.ts', 'src-main/services/audit/', 'src-main/platform/db/repositories/audit-feed.repository.ts', 'src-main/services/mfa/factor-notices.ts', 'src-main/platform/db/repositories/audit.repository.ts', 'src-main/preload/', 'src-main/ipc/events.ts'];

/** Every `event:` the main process writes, read from the source as a reviewer would grep it. */
function writtenEvents(): { names: Set<string>; opaque: string[] } {
  const names = new Set<string>();
  const opaque: string[] = [];
  for (const file of sources(join(root, 'src-main'))) {
    const rel = relative(root, file);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/\bevent:\s*([^,\n}]+)/g)) {
      const expression = match[1] ?? '';
      const literals = [...expression.matchAll(/'([^']+)'|"([^"]+)"/g)].map((m) => m[1] ?? m[2] ?? '');
      for (const literal of literals) names.add(literal);
      if (literals.length === 0 && !PASS_THROUGH.some((prefix) => rel.startsWith(prefix))) opaque.push(`${rel}: event: ${expression.trim()}`);
    }
  }
  return { names, opaque };
}

describe('audit event names', () => {
  it('lists every event name src-main writes, each as a literal', () => {
    const { names, opaque } = writtenEvents();
    // A name held in a variable would slip past this check and reach the screen untranslated.
    expect(opaque).toEqual([]);
    expect(names.size).toBeGreaterThan(10);
    expect([...names].filter((name) => !(AUDIT_EVENTS as readonly string[]).includes(name))).toEqual([]);
  });

  it('is a type: an audit row with a name not in AUDIT_EVENTS does not compile (issue 10)', () => {
    const known: AuditInput = { event: 'settings_changed', actor: 'alice@corp' };
    // tsc -b checks this file: if `event` were a plain string again, this directive would fail the build.
    // @ts-expect-error 'settings_chnaged' is no audit event
    const misspelt: AuditInput = { event: 'settings_chnaged', actor: 'alice@corp' };
    expect([known.event, misspelt.event]).toEqual(['settings_changed', 'settings_chnaged']);
  });

  it.each(LANGUAGES)('has a %s catalog entry for every audit event, and none for an unknown one', (language) => {
    const entries = (catalogs[language].audit as { events: Record<string, string> }).events;
    for (const event of AUDIT_EVENTS) {
      expect(entries[event], `${language} lacks audit.events.${event}`).toEqual(expect.any(String));
      expect(entries[event]).not.toMatch(/_/);
    }
    expect(Object.keys(entries).sort()).toEqual([...AUDIT_EVENTS].sort());
  });
});
