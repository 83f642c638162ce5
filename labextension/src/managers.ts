/**
 * Which tool owns a project, as the panel names it, and its lock file.
 * Dependency-free (unit-tested with node --test).
 */
import type { ManagerName } from './api';

/** The tool's name as shown. */
export const MANAGER_LABELS: Record<ManagerName, string> = {
  pylock: 'envlock',
  uv: 'uv',
  poetry: 'Poetry',
  pdm: 'PDM',
  hatch: 'Hatch'
};

/** The lock file each tool keeps the project's versions in. */
export const LOCK_FILES: Record<ManagerName, string> = {
  pylock: 'pylock.toml',
  uv: 'uv.lock',
  poetry: 'poetry.lock',
  pdm: 'pylock.toml',
  hatch: 'pylock.toml'
};

/** "uv (uv.lock)"; an unknown manager is shown as the server named it. */
export function managerLabel(manager: string | null | undefined): string {
  if (!manager) {
    return '—';
  }
  const known = manager as ManagerName;
  if (!(known in MANAGER_LABELS)) {
    return manager;
  }
  return `${MANAGER_LABELS[known]} (${LOCK_FILES[known]})`;
}

/** A text written about pylock.toml, told about the project's own lock file. */
export function forLockFile(
  text: string,
  manager: string | null | undefined
): string {
  const lock = LOCK_FILES[manager as ManagerName];
  return lock ? text.split('pylock.toml').join(lock) : text;
}
