import React from 'react';

import { IBuildProgress } from '../model';
import { formatCounts } from '../progress';

/** What is running: the env build's phase, our own action, or another command. */
function progressText(
  build: IBuildProgress | null,
  action: string | null
): string {
  if (build) {
    const counts = formatCounts(build);
    return (
      build.phase +
      (counts ? ` ${counts}` : '') +
      (build.message ? ` — ${build.message}` : '')
    );
  }
  if (action) {
    return `${action}…`;
  }
  return 'Another command is changing this project (a %dep cell, a kernel start or the command line)…';
}

/** A spinner and what is running on the project. */
export function ProgressNotice({
  build,
  action
}: {
  build: IBuildProgress | null;
  /** The label of our own action in flight. */
  action: string | null;
}): JSX.Element {
  return (
    <div
      className="jp-EnvlockPanel-progress"
      data-testid="envlock-progress"
      role="status"
    >
      <span className="jp-EnvlockPanel-spinner" aria-hidden="true" />
      <span>{progressText(build, action)}</span>
    </div>
  );
}
