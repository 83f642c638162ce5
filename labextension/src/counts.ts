/**
 * Build progress counts and how they read ("install 3/10", a fraction for
 * the bar). Dependency-free (unit-tested with node --test).
 */

/**
 * The counts an event may show: never more done than total (seen: "[6/5]"
 * when a build did more than it planned; then the total grows with it),
 * never negative.
 */
export function safeCounts(event: {
  done?: number | null;
  total?: number | null;
}): { done: number | null; total: number | null } {
  const count = (n: number | null | undefined): number | null =>
    typeof n === 'number' && Number.isFinite(n)
      ? Math.max(0, Math.floor(n))
      : null;
  const done = count(event.done);
  let total = count(event.total);
  if (done !== null && total !== null && done > total) {
    total = done;
  }
  return { done, total };
}

/** "3/10" when both counts are known. */
export function formatCounts(event: {
  done?: number | null;
  total?: number | null;
}): string {
  const { done, total } = safeCounts(event);
  if (done !== null && total !== null) {
    return `${done}/${total}`;
  }
  if (done !== null) {
    return `${done}`;
  }
  return '';
}

/** How far a build is, 0..1, when it can be told. */
export function progressFraction(event: {
  done?: number | null;
  total?: number | null;
}): number | undefined {
  const { done, total } = safeCounts(event);
  return done !== null && total !== null && total > 0
    ? done / total
    : undefined;
}

/** A build's progress as the panel and the toolbar item show it. */
export interface IProgressView {
  /** "install 3/10" */
  label: string;
  /** uv's line, said below the label. */
  message: string;
  fraction: number | undefined;
}

export function progressView(event: {
  phase?: string | null;
  message?: string | null;
  done?: number | null;
  total?: number | null;
}): IProgressView {
  const counts = formatCounts(event);
  const phase = event.phase || 'working';
  return {
    label: counts ? `${phase} ${counts}` : phase,
    message: (event.message ?? '').trim(),
    fraction: progressFraction(event)
  };
}

/**
 * The one line of the status bar item (and of the notebook toolbar's in
 * Notebook 7, which has no status bar): `envlock: sales · in-sync`, and while
 * an env build runs its phase and counts, `envlock: sales · install 3/10`.
 */
export function statusLine(
  projectName: string | null,
  state: string,
  build: {
    phase?: string | null;
    done?: number | null;
    total?: number | null;
  } | null
): string {
  if (projectName === null) {
    return 'envlock';
  }
  const doing = build ? progressView(build).label : state;
  return `envlock: ${projectName} · ${doing}`;
}
