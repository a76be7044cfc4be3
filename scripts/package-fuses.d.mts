// Types for scripts/package-fuses.mjs, so the test that checks the release fuses is type-checked.
import type { FuseV1Config, FuseV1Options } from '@electron/fuses';

export declare const releaseFuses: FuseV1Config & { strictlyRequireAllFuses: true };
export declare function flipReleaseFuses(electronPath: string): Promise<Partial<Record<FuseV1Options, number>>>;
