import React from 'react';

import { IProjectSummary, IStatus } from '../api';
import { managerLabel } from '../managers';
import { normalizePath } from '../model';
import { IProjectLocation } from '../resolve';
import { DisplayState } from '../state';
import { StateBadge } from './StateBadge';

/** One fact: one line, ellipsized with the whole value as tooltip. */
function Fact({
  label,
  value,
  title,
  testid
}: {
  label: string;
  value: string;
  title?: string;
  testid?: string;
}): JSX.Element {
  return (
    <>
      <dt>{label}</dt>
      <dd data-testid={testid} title={title ?? value}>
        {value}
      </dd>
    </>
  );
}

/**
 * The project's name and state; its folder as seen from the notebook (the
 * project every action changes), Python, kernel, the tool that owns it
 * (envlock, uv, Poetry...) and its environment folder.
 */
export function ProjectFacts({
  project,
  status,
  state,
  location
}: {
  project: IProjectSummary;
  status: IStatus | null;
  state: DisplayState;
  location: IProjectLocation | null;
}): JSX.Element {
  const fromRoot = normalizePath(project.path) || '.';
  return (
    <section className="jp-EnvlockPanel-project">
      <div className="jp-EnvlockPanel-projectName">
        <span data-testid="envlock-project-name" title={project.name}>
          {project.name}
        </span>
        <StateBadge state={state} />
      </div>
      <dl className="jp-EnvlockPanel-facts">
        <Fact
          label="Folder"
          testid="envlock-project-path"
          value={location ? location.relative : fromRoot}
          title={
            location
              ? `${location.relative} from this notebook (${fromRoot} from the server root)`
              : `${fromRoot} from the server root`
          }
        />
        <Fact
          label="Python"
          testid="envlock-python"
          value={status?.python ?? '—'}
        />
        <Fact
          label="Kernel"
          testid="envlock-kernel-name"
          value={project.kernel_name ?? '—'}
        />
        {status && (
          <Fact
            label="Managed by"
            testid="envlock-manager"
            value={managerLabel(status.project.manager)}
          />
        )}
        {status?.env_path && <Fact label="Env" value={status.env_path} />}
      </dl>
    </section>
  );
}
