/** Signal's missingCaseError: adding a union member breaks the build where it is not handled. */
export function assertNever(value: never): never {
  throw new Error(`Unhandled case: ${String(value)}`);
}
