/**
 * Which project a notebook belongs to, and where that project lies seen from
 * the notebook: its folder relative to the notebook's, and whether the
 * notebook is inside it. A notebook in a folder of its own (say one with only
 * a requirements.txt) whose kernel belongs to another project must not change
 * that project silently. Dependency-free (unit-tested with node --test).
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

/** The folder of a root-relative file path ("" for the root). */
export function dirname(path: string): string {
  const p = normalizePath(path);
  const slash = p.lastIndexOf('/');
  return slash < 0 ? '' : p.slice(0, slash);
}

function parts(path: string): string[] {
  const p = normalizePath(path);
  return p === '' ? [] : p.split('/');
}

/** `to` relative to the folder `from` (both root-relative): ".", "..", "../sales", "sub". */
export function relativePath(from: string, to: string): string {
  const a = parts(from);
  const b = parts(to);
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) {
    common += 1;
  }
  const up = a.slice(common).map(() => '..');
  const rel = [...up, ...b.slice(common)].join('/');
  return rel === '' ? '.' : rel;
}

/** Whether the root-relative `path` is the folder `dir` or below it. */
export function isInside(path: string, dir: string): boolean {
  const p = normalizePath(path);
  const d = normalizePath(dir);
  return d === '' || p === d || p.startsWith(d + '/');
}

export interface IProjectLocation {
  /** The project's folder relative to the notebook's folder ("." when the same). */
  relative: string;
  /** The project's folder relative to the server root ("." for the root). */
  fromRoot: string;
  /** Whether the notebook lies inside the project. */
  inside: boolean;
  /** The notebook's folder relative to the server root ("." for the root). */
  notebookDir: string;
}

/** Where `projectPath` is seen from the notebook at `notebookPath` (null: no notebook). */
export function projectLocation(
  projectPath: string,
  notebookPath: string | null
): IProjectLocation | null {
  if (notebookPath === null) {
    return null;
  }
  const dir = dirname(notebookPath);
  return {
    relative: relativePath(dir, projectPath),
    fromRoot: normalizePath(projectPath) || '.',
    inside: isInside(notebookPath, projectPath),
    notebookDir: dir || '.'
  };
}

/** The warning for a notebook outside the project it acts on, or null. */
export function outsideWarning(
  location: IProjectLocation | null,
  projectName: string,
  kernelName: string | null
): string | null {
  if (!location || location.inside) {
    return null;
  }
  const kernel = kernelName ? `its kernel ${kernelName}` : 'its kernel';
  return (
    `This notebook is not inside project ${projectName}: ${kernel} belongs to ` +
    `${location.relative}, so adding or removing packages here changes ` +
    `${location.relative}/pyproject.toml and its environment.`
  );
}
