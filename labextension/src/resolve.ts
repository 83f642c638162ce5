/**
 * Which project a notebook belongs to. Dependency-free (unit-tested with node --test).
 */
import type { IProjectSummary } from './api';

/** Normalize a root-relative path: no leading "./" or "/", no trailing "/", "." is "". */
export function normalizePath(path: string | null | undefined): string {
  let p = (path ?? '').replace(/\\/g, '/').trim();
  p = p
    .replace(/^(\.\/)+/, '')
    .replace(/^\/+/, '')
    .replace(/\/+$/, '');
  return p === '.' ? '' : p;
}

/**
 * Find the project a notebook belongs to: by kernel name first, then the
 * longest project path that contains the notebook.
 */
export function resolveProject(
  projects: readonly IProjectSummary[],
  kernelName: string | null,
  notebookPath: string | null
): IProjectSummary | null {
  if (kernelName) {
    const byKernel = projects.find(p => p.kernel_name === kernelName);
    if (byKernel) {
      return byKernel;
    }
  }
  if (notebookPath === null) {
    return null;
  }
  const nb = normalizePath(notebookPath);
  let best: IProjectSummary | null = null;
  let bestLen = -1;
  for (const project of projects) {
    const dir = normalizePath(project.path);
    const inside = dir === '' || nb === dir || nb.startsWith(dir + '/');
    if (inside && dir.length > bestLen) {
      best = project;
      bestLen = dir.length;
    }
  }
  return best;
}
