/**
 * The words for what an action changed and for how an environment drifted
 * from its lock. Dependency-free (unit-tested with node --test).
 */
import type { ChangeKind, IChange, IChangeReport, IDrift } from './api';

/** How each kind of change reads: `+ name 1.0`, `↑ name 1.0 → 2.0`, ... */
const CHANGE_TEXT: Record<ChangeKind, (change: IChange) => string> = {
  added: c => `+ ${c.name} ${c.new ?? ''}`.trim(),
  removed: c => `− ${c.name} ${c.old ?? ''}`.trim(),
  upgraded: c => `↑ ${c.name} ${c.old ?? '?'} → ${c.new ?? '?'}`,
  downgraded: c => `↓ ${c.name} ${c.old ?? '?'} → ${c.new ?? '?'}`
};

export function describeChange(change: IChange): string {
  const text = CHANGE_TEXT[change.kind];
  return text ? text(change) : change.name;
}

/** What to say when an action changed no version. */
export function summarizeNoChange(report: IChangeReport): string {
  if (report.env) {
    return report.env.noop
      ? 'Already in sync: nothing to do.'
      : 'Environment synced with the lock.';
  }
  if (report.lock_changed) {
    return 'Lock updated; no version changed.';
  }
  return 'Nothing changed.';
}

/** At most this many drift lines are listed, then "… and N more". */
export const DRIFT_LINES_SHOWN = 8;

/** One line per package that differs between the environment and the lock. */
export function driftLines(drift: IDrift | null | undefined): string[] {
  if (!drift) {
    return [];
  }
  return [
    ...(drift.missing ?? []).map(d => `missing ${d.name} ${d.locked ?? ''}`),
    ...(drift.extra ?? []).map(d => `extra ${d.name} ${d.installed ?? ''}`),
    ...(drift.changed ?? []).map(
      d =>
        `${d.name} ${d.installed ?? '?'} installed, ${d.locked ?? '?'} locked`
    )
  ].map(line => line.trim());
}
