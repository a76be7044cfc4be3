import { z } from 'zod';

/**
 * Incident mode (DESIGN.md "Domain"; issue 11): while it is on, restores at `high` and above are
 * denied with ERR-RESTORE-INCIDENT-MODE. Turning it on is immediate; turning it off takes a
 * step-up chain at the critical policy, for this purpose.
 */
export const INCIDENT_LEAVE_PURPOSE = 'incident:leave';

export const incidentStateSchema = z.object({
  on: z.boolean(),
  /** When it last changed, and who changed it; null before it ever has. */
  changedAt: z.string().nullable(),
  changedBy: z.string().nullable(),
});
export type IncidentState = z.infer<typeof incidentStateSchema>;

/** What turning it on or off answers: `changed` is false when it already was so. */
export const incidentChangeSchema = z.object({
  changed: z.boolean(),
  state: incidentStateSchema,
});
export type IncidentChange = z.infer<typeof incidentChangeSchema>;
