import type { Role } from '../../../src-shared/domain/mfa';

/**
 * The roles, least to most (DESIGN.md "Domain"). A local list rather than the domain's ROLES,
 * whose module builds zod schemas and would pull zod into the bundle; `satisfies` keeps the two
 * from drifting apart.
 */
export const ROLE_OPTIONS = ['operator', 'admin', 'security-admin'] as const satisfies readonly Role[];

/**
 * profile:init's principalSchema, checked here too so a typo is pointed at before the round
 * trip; main's check still decides.
 */
export const PRINCIPAL_PATTERN = /^[A-Za-z0-9._-]+@[A-Za-z0-9._-]+$/;
