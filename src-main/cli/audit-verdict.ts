import { assertNever } from '../../src-shared/assert-never';
import type { AuditVerification } from '../../src-shared/domain/audit';
import { isCheckpointRefusal, type IncrementalVerification } from '../services/audit/audit.service';
import { message } from './cli-support';

/** One line for `audit verify`: what the walk found, and what the keychain anchor vouches for. */
export function describeVerification(v: AuditVerification): string {
  if (v.ok) {
    if (v.anchor === 'empty') return 'audit log is empty: there is nothing to anchor yet';
    return `audit chain intact: ${v.rows} rows, head #${v.headId ?? 0}; the head matches the one anchored in the keychain`;
  }
  const intact = `audit chain intact: ${v.rows} rows${v.headId ? `, head #${v.headId}` : ''}`;
  const reanchor = 'If you trust the log as it stands, run "custodian audit reanchor".';
  switch (v.reason) {
    case 'anchor-lagging':
      return `${intact}; anchored at #${v.anchoredId ?? 0} of ${v.headId ?? 0}: rows after #${v.anchoredId ?? 0} are not vouched for by the keychain (its writes failed or have not caught up)`;
    case 'anchor-missing':
      return `${intact}; but this database has no anchor in the keychain, so rows cut off the end or a rewritten log cannot be ruled out. ${reanchor}`;
    case 'anchor-unreadable':
      return `${intact}; but the keychain anchor for this database is unreadable (garbled), so rows cut off the end or a rewritten log cannot be ruled out. ${reanchor}`;
    case 'anchor-unavailable':
      return `${intact}; ${message('ERR-KEYCHAIN-UNAVAILABLE')} Rows cut off the end cannot be ruled out.`;
    case 'head-missing':
    case 'anchor-mismatch':
    case 'hash-mismatch':
    case 'link-broken':
    case 'sequence-gap':
      return `audit chain broken at row #${v.firstBadId} (${v.reason}); ${Math.max(v.firstBadId - 1, 0)} rows before it are intact`;
    default:
      return assertNever(v.reason);
  }
}

/** One line for `audit verify --incremental`: where the walk started, then as `describeVerification`. */
export function describeIncremental(v: IncrementalVerification): string {
  const full = 'Run "custodian audit verify" (without --incremental) to walk the whole log; if it passes, it sets a new checkpoint.';
  if (isCheckpointRefusal(v)) {
    if (v.reason === 'checkpoint-unreadable') {
      return `audit checkpoint refused: the one kept in the keychain for this database is unreadable (garbled). ${full}`;
    }
    return `audit checkpoint refused: it names row #${v.firstBadId}, which the log no longer holds with that hash (rows rewritten or cut off, or a forged checkpoint). ${full}`;
  }
  const from = v.from === 0 ? 'no checkpoint yet, the whole log walked' : `from the checkpoint at row #${v.from}`;
  return `${from}: ${describeVerification(v)}`;
}
