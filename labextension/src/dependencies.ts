/**
 * Direct dependencies by group, as the panel lists them. Dependency-free
 * (unit-tested with node --test).
 */
import type { IDependency } from './api';

/**
 * The dependencies by group: `[project].dependencies` (null) first, then the
 * groups by name; a uv or Poetry project's extras as "extra: NAME".
 */
export function groupDependencies(
  deps: readonly IDependency[]
): Array<[string | null, IDependency[]]> {
  const groups = new Map<string | null, IDependency[]>();
  for (const dep of deps) {
    const key = dep.group ?? (dep.extra ? `extra: ${dep.extra}` : null);
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
export function groupNames(deps: readonly IDependency[]): string[] {
  return [
    ...new Set(deps.map(d => d.group).filter((g): g is string => !!g))
  ].sort();
}
