/**
 * The rows of the "Outdated" check: what each direct dependency could be
 * upgraded to. Dependency-free (unit-tested with node --test).
 */
import type { IOutdatedPackage, IOutdatedReport } from './api';

export interface IOutdatedRow {
  name: string;
  locked: string;
  /** What one click upgrades to (the newest the specifiers allow), or null. */
  upgradeTo: string | null;
  /** Said when the newest release is outside the specifiers. */
  note: string | null;
}

/** One row per outdated direct dependency, as the server listed them. */
export function outdatedRows(report: IOutdatedReport): IOutdatedRow[] {
  return (report.outdated ?? []).map((pkg: IOutdatedPackage) => {
    const locked = pkg.locked ?? 'not locked';
    const upgradeTo =
      pkg.allowed && pkg.allowed !== pkg.locked ? pkg.allowed : null;
    const note =
      pkg.latest && pkg.latest !== upgradeTo && pkg.latest !== pkg.locked
        ? `${pkg.latest} is out: ${pkg.requirement} does not allow it`
        : null;
    return { name: pkg.name, locked, upgradeTo, note };
  });
}

/** The one-line summary above the rows. */
export function outdatedSummary(report: IOutdatedReport): string {
  if (!report.checked) {
    return report.message || 'Cannot check for newer versions.';
  }
  const rows = outdatedRows(report);
  const upgradable = rows.filter(r => r.upgradeTo !== null).length;
  if (rows.length === 0) {
    return 'Every direct dependency is at its newest version.';
  }
  if (upgradable === 0) {
    return 'Newer versions exist, but the requirements in pyproject.toml do not allow them.';
  }
  return upgradable === 1
    ? '1 dependency can be upgraded.'
    : `${upgradable} dependencies can be upgraded.`;
}
