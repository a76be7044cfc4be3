import type { CustodianApi } from '../src-shared/ipc/api';

declare global {
  // The preload's contextBridge object: the renderer's only way to reach main (STYLE.md rule 4).
  interface Window {
    readonly custodian: CustodianApi;
  }
}
