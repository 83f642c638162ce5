import React from 'react';

import { progressView } from '../counts';
import { IBuildProgress } from '../model';

/** What is running: our own action, or another command on the project. */
function actionText(action: string | null): string {
  if (action) {
    return `${action}…`;
  }
  return 'Another command is changing this project (a %dep cell, a kernel start or the command line)…';
}

/**
 * A spinner and what is running on the project; for an env build the phase
 * and counts ("install 3/10"), a bar, and uv's line below, clamped to two
 * lines with the whole line as tooltip.
 */
export function ProgressNotice({
  build,
  action
}: {
  build: IBuildProgress | null;
  /** The label of our own action in flight. */
  action: string | null;
}): JSX.Element {
  const view = build ? progressView(build) : null;
  return (
    <div
      className="jp-EnvlockPanel-progress"
      data-testid="envlock-progress"
      role="status"
    >
      <span className="jp-EnvlockPanel-spinner" aria-hidden="true" />
      {view ? (
        <div className="jp-EnvlockPanel-progressBody">
          <span
            className="jp-EnvlockPanel-progressLabel"
            data-testid="envlock-progress-label"
          >
            {view.label}
          </span>
          {view.fraction !== undefined && (
            <progress
              className="jp-EnvlockPanel-progressBar"
              data-testid="envlock-progress-bar"
              max={1}
              value={view.fraction}
            />
          )}
          {view.message && (
            <span
              className="jp-EnvlockPanel-progressMessage"
              data-testid="envlock-progress-message"
              title={view.message}
            >
              {view.message}
            </span>
          )}
        </div>
      ) : (
        <span className="jp-EnvlockPanel-progressBody">
          {actionText(action)}
        </span>
      )}
    </div>
  );
}
