/**
 * Every locked package, why it is there, and the panel's filter over them.
 * Dependency-free (unit-tested with node --test).
 */
import type { ILockedPackage } from './api';

/** PEP 503 normalized name: `Scikit_Learn` and `scikit-learn` match. */
export function canonicalName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/**
 * Why a package is in the lock: "direct (main, dev) · required by pandas",
 * "needed by the kernel"; `requiredByKnown` false (no environment to read it
 * from yet) says so instead of claiming nothing requires it.
 */
export function reasonText(
  pkg: ILockedPackage,
  requiredByKnown = true
): string {
  const reasons: string[] = [];
  if (pkg.direct) {
    const groups = (pkg.groups ?? []).map(g => (g === null ? 'main' : g));
    reasons.push(
      groups.length > 0 ? `direct (${groups.join(', ')})` : 'direct'
    );
  }
  const by = pkg.required_by ?? [];
  if (by.length > 0) {
    reasons.push(`required by ${by.join(', ')}`);
  } else if (pkg.kernel && !pkg.direct) {
    reasons.push('needed by the kernel');
  }
  if (reasons.length > 0) {
    return reasons.join(' · ');
  }
  return requiredByKnown
    ? 'not required by anything'
    : 'required by: known once the environment is built';
}

/**
 * The packages whose name, or a name of what requires them, contains every
 * word of `query` (spelling-insensitive); direct dependencies first, then by
 * name.
 */
export function filterPackages(
  packages: readonly ILockedPackage[],
  query: string
): ILockedPackage[] {
  const words = query
    .trim()
    .split(/\s+/)
    .filter(w => w.length > 0)
    .map(canonicalName);
  const matches = packages.filter(pkg => {
    const haystack = [pkg.name, ...(pkg.required_by ?? [])]
      .map(canonicalName)
      .join(' ');
    return words.every(word => haystack.includes(word));
  });
  return matches.sort(
    (a, b) =>
      Number(b.direct) - Number(a.direct) ||
      canonicalName(a.name).localeCompare(canonicalName(b.name))
  );
}
