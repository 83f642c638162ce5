/**
 * Direct dependencies by group, as the panel lists them. Dependency-free
 * (unit-tested with node --test).
 */
import type { Dependency } from './api';

/** The dependencies by group: `[project].dependencies` (null) first, then the groups by name. */
export function groupDependencies(
  deps: readonly Dependency[]
): Array<[string | null, Dependency[]]> {
  const groups = new Map<string | null, Dependency[]>();
  for (const dep of deps) {
    const key = dep.group ?? null;
    const members = groups.get(key) ?? [];
    members.push(dep);
    groups.set(key, members);
  }
  const keys = [...groups.keys()].sort((a, b) =>
    a === null ? -1 : b === null ? 1 : a.localeCompare(b)
  );
  return keys.map(key => [key, groups.get(key) ?? []]);
}

/** The names of the PEP 735 groups in use, sorted (for the add form's choice). */
export function groupNames(deps: readonly Dependency[]): string[] {
  return [
    ...new Set(deps.map(d => d.group).filter((g): g is string => !!g))
  ].sort();
}
