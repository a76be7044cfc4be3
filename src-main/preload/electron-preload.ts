import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { createCustodianApi } from './custodian-api';

// The sandboxed preload (Electron security checklist items 3 and 4): one typed object through
// contextBridge, never ipcRenderer itself or a channel parameter (STYLE.md rule 4).
const api = createCustodianApi({
  invoke: (channel, payload) => ipcRenderer.invoke(channel, payload),
  on: (event, listener) => {
    const wrapped = (_event: IpcRendererEvent, payload: unknown): void => listener(payload);
    ipcRenderer.on(event, wrapped);
    return () => {
      ipcRenderer.removeListener(event, wrapped);
    };
  },
});

contextBridge.exposeInMainWorld('custodian', api);
