// Types for scripts/electronegativity.mjs, so the test of the gate is type-checked.
export interface Justification {
  id: string;
  file: string;
  count: number;
  why: string;
}
export declare const JUSTIFIED: Justification[];
export declare function scan(input: string, justified: Justification[]): Promise<{ problems: string[]; findings: number }>;
