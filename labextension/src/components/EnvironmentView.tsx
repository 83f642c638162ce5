import { refreshIcon } from '@jupyterlab/ui-components';
import React from 'react';

import { groupNames } from '../dependencies';
import { EnvlockModel } from '../model';
import { needsTrust } from '../trust';
import { ActionReport } from './ActionReport';
import { AddDependencyForm } from './AddDependencyForm';
import { DependencyList } from './DependencyList';
import { ErrorNotice } from './ErrorNotice';
import { FixPrompt } from './FixPrompt';
import { NotAProjectCard } from './NotAProjectCard';
import { OutdatedCheck } from './OutdatedCheck';
import { OutsideProjectWarning } from './OutsideProjectWarning';
import { PackageTree } from './PackageTree';
import { ProgressNotice } from './ProgressNotice';
import { ProjectActions } from './ProjectActions';
import { ProjectFacts } from './ProjectFacts';
import { ProjectNotes } from './ProjectNotes';
import { ProjectPicker } from './ProjectPicker';
import { RestartKernelPrompt } from './RestartKernelPrompt';
import { StatusWarnings } from './StatusWarnings';
import { TrustCard } from './TrustCard';

/**
 * The Environment panel's content: the current notebook's project (where it
 * lies seen from the notebook), its state and warnings, its direct
 * dependencies, the add / remove / sync / re-lock actions, the outdated check
 * with its upgrades, and every locked package.
 */
export function EnvironmentView({
  model
}: {
  model: EnvlockModel;
}): JSX.Element {
  const project = model.project;
  const details = model.details;
  const busy = model.busy !== null;
  const build = model.build;
  const serverBusy = model.serverBusy;
  const state = model.state;
  const deps = details?.dependencies ?? [];
  const outside = model.outsideWarning;
  const folder = project?.state === 'not-a-project' ? project : null;
  // Until the project is trusted the server refuses every action that builds.
  const untrusted = needsTrust(details?.status.trust);
  const locked = busy || untrusted;

  return (
    <div
      className="jp-EnvlockPanel-body"
      aria-busy={busy || build !== null || serverBusy}
    >
      <header className="jp-EnvlockPanel-header">
        <h2 className="jp-EnvlockPanel-title">Environment</h2>
        <button
          className="jp-EnvlockPanel-iconButton"
          data-testid="envlock-refresh"
          title="Refresh"
          aria-label="Refresh"
          onClick={() => {
            void model.refreshProjects().then(() => model.refresh());
          }}
        >
          <refreshIcon.react tag="span" />
        </button>
      </header>

      <ProjectPicker model={model} />

      {!project && (
        <div className="jp-EnvlockPanel-empty" data-testid="envlock-no-project">
          {model.notebook
            ? 'This notebook is not part of an envlock project (a folder with a pyproject.toml).'
            : 'Open a notebook inside a project to see its environment.'}
        </div>
      )}

      {project && (
        <ProjectFacts
          project={project}
          status={details?.status ?? null}
          state={state}
          location={model.location}
        />
      )}

      {outside && <OutsideProjectWarning message={outside} />}

      {project && <StatusWarnings warnings={details?.status?.warnings} />}

      {(busy || build || serverBusy) && (
        <ProgressNotice build={build} action={model.busy} />
      )}

      {model.error && (
        <ErrorNotice
          message={model.error}
          onDismiss={() => model.dismissError()}
        />
      )}

      {model.restartPrompt && (
        <RestartKernelPrompt model={model} prompt={model.restartPrompt} />
      )}

      {folder && (
        <NotAProjectCard model={model} folder={folder} disabled={busy} />
      )}

      {project && !folder && <ProjectNotes notes={details?.status.notes} />}

      {project && !folder && details && untrusted && (
        <TrustCard model={model} status={details.status} disabled={busy} />
      )}

      {project && !folder && state !== 'building' && !untrusted && (
        <FixPrompt model={model} disabled={busy} />
      )}

      {project && model.lastReport && (
        <ActionReport report={model.lastReport} />
      )}

      {project && !folder && (
        <>
          <ProjectActions model={model} disabled={locked} />

          <AddDependencyForm
            model={model}
            disabled={locked}
            groups={groupNames(deps)}
          />

          {details ? (
            <>
              <DependencyList
                deps={deps}
                disabled={locked}
                onRemove={dep => void model.remove(dep)}
              />
              <OutdatedCheck model={model} disabled={locked} />
              <PackageTree model={model} />
            </>
          ) : (
            <div className="jp-EnvlockPanel-empty">
              {project.state === 'error' && project.message
                ? project.message
                : 'Loading…'}
            </div>
          )}
        </>
      )}
    </div>
  );
}
