import { AppError } from '../../../../src-shared/errors';
import type { Database } from '../database';

/** SQL for the gateway's instance secret (migration 004), and nothing else. */
export class GatewayInstanceRepository {
  readonly #secret;

  constructor(db: Database) {
    this.#secret = db.prepare('SELECT secret FROM gateway_instance WHERE id = 1').pluck();
  }

  /** The 32 bytes that prove a process can read this database; the migration always writes them. */
  secret(): Buffer {
    const secret = this.#secret.get();
    if (!Buffer.isBuffer(secret) || secret.length !== 32) throw new AppError('ERR-INTERNAL');
    return secret;
  }
}
