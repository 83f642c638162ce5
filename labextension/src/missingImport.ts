/**
 * The missing-import hint a project kernel adds under a failed import
 * (`application/vnd.jupyter-envlock.missing-import+json`, UI-CONTRACT.md):
 * read it defensively (it comes from a kernel, and from saved notebooks) and
 * word its button. Dependency-free (unit-tested with node --test).
 */

export const MISSING_IMPORT_MIME =
  'application/vnd.jupyter-envlock.missing-import+json';

export interface IMissingImport {
  module: string;
  distribution: string;
  /** "add": not locked yet; "sync": locked but not installed (env drift). */
  action: 'add' | 'sync';
  command: string;
  project: string | null;
  kernel_name: string | null;
}

const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;

/** The hint in a MIME bundle's data, or null when it is not a valid one. */
export function readMissingImport(data: unknown): IMissingImport | null {
  if (!data || typeof data !== 'object') {
    return null;
  }
  const d = data as Record<string, unknown>;
  const text = (key: string): string | null =>
    typeof d[key] === 'string' ? (d[key] as string) : null;
  const module = text('module');
  const distribution = text('distribution');
  const action = text('action');
  if (!module || !distribution || !NAME.test(distribution)) {
    return null;
  }
  if (action !== 'add' && action !== 'sync') {
    return null;
  }
  return {
    module,
    distribution,
    action,
    command:
      text('command') ??
      (action === 'add' ? `%dep add ${distribution}` : '%dep sync'),
    project: text('project'),
    kernel_name: text('kernel_name')
  };
}

/** The button: "Add scikit-learn to the project" or "Sync the environment". */
export function actionLabel(hint: IMissingImport): string {
  return hint.action === 'add'
    ? `Add ${hint.distribution} to the project`
    : 'Sync the environment';
}

/** The sentence beside it. */
export function hintText(hint: IMissingImport): string {
  const provides =
    hint.module === hint.distribution
      ? `No module named ${hint.module}.`
      : `${hint.distribution} provides ${hint.module}.`;
  return hint.action === 'add'
    ? `${provides} It is not in this project yet.`
    : `${provides} It is in the lock but not installed in the environment.`;
}
