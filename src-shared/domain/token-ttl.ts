import { z } from 'zod';

/**
 * How long a restore access token lives (issue 11 "Token issuance"; DESIGN.md "Restore approval"):
 * the bounds of `restoreTokens.ttlSeconds`, for the environment, the Settings screen and the shell.
 * A module of its own so that the config, which every CLI command loads, does not pull in the
 * settings' other schemas (policies, factors, phone numbers: issue 13, the CLI's start-up).
 */
export const tokenTtlSecondsSchema = z.number().int().min(30).max(86400);
