import { parentPort, workerData } from 'node:worker_threads';
import { openReadConnection } from '../../platform/db/read-connection';
import { AuditRepository } from '../../platform/db/repositories/audit.repository';
import { takeChunks, type ChunkWalk, type WalkJob } from './parallel-walk';

// Chunks of a parallel chain walk (parallel-walk.ts), on its own read-only connection: the worker
// reads and hashes the chunks it takes while the main thread and the other workers do theirs, and
// posts each verdict as it is found (a few numbers and hashes, never the rows).
const job = workerData as WalkJob;
const db = openReadConnection(job.file, job.nativeBinding);
try {
  takeChunks(db, new AuditRepository(db), job, (walked: ChunkWalk) => parentPort?.postMessage(walked));
} finally {
  db.close();
}
