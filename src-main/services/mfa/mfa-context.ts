import type { AuditEvent } from '../../../src-shared/domain/audit';
import type { AuditInput } from '../audit/audit.service';

/** Where an attempt comes from; recorded in the audit rows. */
export interface MfaContext {
  /** `desktop` (the window), `cli`, or an integration's name. */
  source: string;
  sourceIp?: string | null;
  userAgent?: string | null;
}

/** An MFA audit row: the profile's principal acts, from where the context says. */
export function mfaRow(actor: { principal: string }, ctx: MfaContext, event: AuditEvent, subject: string, data: NonNullable<AuditInput['data']>): AuditInput {
  return { event, actor: actor.principal, subject, ...where(ctx), data };
}

export function where(ctx: MfaContext): { sourceIp: string | null; userAgent: string | null } {
  return { sourceIp: ctx.sourceIp ?? null, userAgent: ctx.userAgent ?? null };
}

export const HOUR_MS = 60 * 60 * 1000;
export const DAY_MS = 24 * HOUR_MS;
