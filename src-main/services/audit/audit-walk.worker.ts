import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../../platform/db/database';
import { AuditRepository } from '../../platform/db/repositories/audit.repository';
import { walkRange, type RangeJob } from './parallel-walk';

// One range of a parallel chain walk (parallel-walk.ts), on its own read-only connection: the
// worker reads and hashes its rows while the main thread and the other workers do theirs.
const job = workerData as RangeJob;
const db = openDatabase({ file: job.file, synchronous: 'FULL', readonly: true, nativeBinding: job.nativeBinding });
try {
  parentPort?.postMessage(walkRange(db, new AuditRepository(db), job.after, job.through));
} finally {
  db.close();
}
