import React from 'react';

import { IProjectSummary, IStatus } from '../api';
import { normalizePath } from '../model';
import { DisplayState } from '../state';
import { StateBadge } from './StateBadge';

/** The project's name and state, its path, Python, kernel and environment folder. */
export function ProjectFacts({
  project,
  status,
  state
}: {
  project: IProjectSummary;
  status: IStatus | null;
  state: DisplayState;
}): JSX.Element {
  return (
    <section className="jp-EnvlockPanel-project">
      <div className="jp-EnvlockPanel-projectName">
        <span data-testid="envlock-project-name">{project.name}</span>
        <StateBadge state={state} />
      </div>
      <dl className="jp-EnvlockPanel-facts">
        <dt>Path</dt>
        <dd data-testid="envlock-project-path">
          {normalizePath(project.path) || '.'}
        </dd>
        <dt>Python</dt>
        <dd data-testid="envlock-python">{status?.python ?? '—'}</dd>
        <dt>Kernel</dt>
        <dd data-testid="envlock-kernel-name">{project.kernel_name ?? '—'}</dd>
        {status?.env_path && (
          <>
            <dt>Env</dt>
            <dd className="jp-EnvlockPanel-envPath" title={status.env_path}>
              {status.env_path}
            </dd>
          </>
        )}
      </dl>
    </section>
  );
}
