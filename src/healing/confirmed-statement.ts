/**
 * What a statement the server confirmed (its CommandComplete fits it) does to the session's tracked state: settings
 * and their transaction (tracked-settings.ts), SQL-level prepared statements (prepared-statements.ts).
 */
import type { PreparedStatements } from './prepared-statements.js';
import type { StatementKind } from './statement-kinds.js';
import type { TrackedSettings } from './tracked-settings.js';

/**
 * Applies the confirmed statement; true when the tracked state may have grown (the caller checks its cap).
 * Unprovable statements are the caller's (they change what is tracked at all).
 */
export function applyConfirmed(kind: Exclude<StatementKind, { readonly k: 'unprovable' }>, tag: string,
  s: TrackedSettings, prepared: PreparedStatements): boolean {
  switch (kind.k) {
    case 'other': case 'local': return false;
    case 'setting': s.change({ op: 'set', key: kind.key, text: kind.text }); return true;
    case 'reset': s.change({ op: 'reset', key: kind.key }); return true;
    case 'reset-all': s.change({ op: 'reset-all' }); return true;
    case 'begin': s.begin(); return false;
    case 'commit': if (tag.startsWith('ROLLBACK')) s.rollback(kind.chain); else s.commit(kind.chain); return false;
    case 'rollback': s.rollback(kind.chain); return false;
    case 'rollback-to': s.rollbackTo(kind.savepoint); return false;
    case 'savepoint': s.savepoint(kind.name); return false;
    case 'release': s.release(kind.name); return false;
    case 'prepare': prepared.sqlPrepared(kind.name, kind.text); return true;
    case 'deallocate': prepared.deallocated(kind.name); return false;
    case 'deallocate-all': prepared.deallocatedAll(); return false;
    case 'discard-all': prepared.deallocatedAll(); s.change({ op: 'reset-all' }); return true;
    default: {
      const never: never = kind;
      throw new Error(`unknown statement kind ${String(never)}`);
    }
  }
}
