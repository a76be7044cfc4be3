import { z } from 'zod';
import { LANGUAGES } from '../i18n';
import { factorTypeSchema } from './policy';
import { tokenTtlSecondsSchema } from './token-ttl';

export const languageSchema = z.enum(LANGUAGES);

export { tokenTtlSecondsSchema };

// Defined beside the other step-up purposes (policy.ts imports nothing from here, so the two
// modules never load in a cycle, which left the purpose undefined in the chain's schema).
export { TOKEN_TTL_PURPOSE } from './policy';

/**
 * Where the TTL in force comes from, in precedence order: the environment pins it (the deployment
 * decides, nothing at run time can change it), else the value an administrator stored, else the
 * default.
 */
export const SETTING_SOURCES = ['environment', 'stored', 'default'] as const;
export const settingSourceSchema = z.enum(SETTING_SOURCES);
export type SettingSource = z.infer<typeof settingSourceSchema>;

export const tokenTtlSettingSchema = z.object({
  seconds: tokenTtlSecondsSchema,
  source: settingSourceSchema,
  /** The variable that pins it, when `source` is `environment`. */
  variable: z.string().nullable(),
});
export type TokenTtlSetting = z.infer<typeof tokenTtlSettingSchema>;

export const userSettingsSchema = z.object({
  language: languageSchema,
  /** Shared by every process on the data directory, read at each token issue. */
  tokenTtl: tokenTtlSettingSchema,
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
