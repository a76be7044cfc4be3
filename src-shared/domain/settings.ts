import { z } from 'zod';
import { LANGUAGES } from '../i18n';
import { factorTypeSchema } from './policy';

export const languageSchema = z.enum(LANGUAGES);

export const userSettingsSchema = z.object({
  language: languageSchema,
});
export type UserSettings = z.infer<typeof userSettingsSchema>;

export const HOST_KINDS = ['electron', 'chromium-host'] as const;
export const hostKindSchema = z.enum(HOST_KINDS);
export type HostKind = z.infer<typeof hostKindSchema>;

export const appInfoSchema = z.object({
  version: z.string(),
  host: hostKindSchema,
  /** The main process's clock, so countdowns use its time rather than the renderer's. */
  now: z.number().int(),
  dataDir: z.string(),
  gatewayPort: z.number().int(),
  /** How long "deny and report" mutes an integration, so the confirmation can say so. */
  reportMuteMinutes: z.number().int(),
  /** The factor methods `MFA_METHODS` turns on (issue 12), so the Policies screen can say which are off. */
  mfaMethods: z.array(factorTypeSchema),
});
export type AppInfo = z.infer<typeof appInfoSchema>;
