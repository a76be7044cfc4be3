/** Exit codes (DESIGN.md "Command line"): scripts branch on these. */
export const EXIT = { ok: 0, failure: 1, usage: 2, denied: 3, expired: 4 } as const;
