import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { PortHolder } from '../../src-shared/domain/restore-request';

/**
 * Who listens on a TCP port, from Linux's /proc (issue 9: "say what holds the port"). The owner's
 * uid is in /proc/net/tcp for every socket; the pid only where this process may read the holder's
 * file descriptors (its own user's processes, or all of them as root). Anything unreadable is
 * null, and on other systems the whole answer is null: this is a hint for a message, never a
 * decision (the decision is the instance proof).
 */
export function findPortHolder(port: number): PortHolder | null {
  const socket = listeningSocket(port);
  if (!socket) return null;
  const pid = pidOwning(socket.inode);
  return {
    uid: socket.uid,
    user: socket.uid === null ? null : userName(socket.uid),
    pid,
    command: pid === null ? null : commandOf(pid),
  };
}

const LISTEN = '0A';

function listeningSocket(port: number): { uid: number | null; inode: string } | null {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const fields = line.trim().split(/\s+/);
      const [, local, , state, , , , uid, , inode] = fields;
      if (!local || state !== LISTEN || local.split(':').pop() !== hexPort || inode === undefined) continue;
      const parsedUid = Number(uid);
      return { uid: Number.isInteger(parsedUid) ? parsedUid : null, inode };
    }
  }
  return null;
}

function pidOwning(inode: string): number | null {
  if (inode === '0') return null;
  const target = `socket:[${inode}]`;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // Another user's process: not ours to read.
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === target) return Number(pid);
      } catch {
        // Closed while we looked.
      }
    }
  }
  return null;
}

/** Another user picks their process's name: only a safe alphabet of it is ever shown. */
function clean(text: string): string | null {
  const safe = text.trim().replace(/[^A-Za-z0-9._-]/g, '').slice(0, 32);
  return safe.length > 0 ? safe : null;
}

function commandOf(pid: number): string | null {
  try {
    return clean(readFileSync(`/proc/${pid}/comm`, 'utf8'));
  } catch {
    return null;
  }
}

function userName(uid: number): string | null {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (name && Number(id) === uid) return clean(name);
    }
  } catch {
    // No passwd file to read: the uid alone says enough.
  }
  return null;
}
