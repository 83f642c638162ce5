/**
 * The Environment panel: the current notebook's project, its state, its direct
 * dependencies, and the add / remove / sync / re-lock actions.
 */
import { ReactWidget, UseSignal, refreshIcon } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import React, { useState } from 'react';

import { Change, ChangeReport, Dependency, Drift } from './api';
import { envlockIcon } from './icons';
import { DisplayState, EnvlockModel, normalizePath } from './model';
import { formatCounts } from './progress';
import { checkRequirement } from './requirement';

export const PANEL_ID = 'jupyter-envlock:panel';

const STATE_TEXT: Record<DisplayState, string> = {
  'in-sync': 'The environment matches the lock, and the lock matches pyproject.toml.',
  'lock-out-of-date': 'pyproject.toml changed since the lock was made.',
  'env-out-of-date': 'The environment differs from the lock.',
  'no-lock': 'The project has no pylock.toml yet.',
  'no-env': 'The environment has not been built yet.',
  building: 'Working on the environment…',
  error: 'Something went wrong: see the message below.',
  unknown: 'Loading…'
};

/** Lumino wrapper: a sidebar widget around the React view. */
export class EnvlockPanel extends ReactWidget {
  constructor(model: EnvlockModel) {
    super();
    this._model = model;
    this.id = PANEL_ID;
    this.addClass('jp-EnvlockPanel');
    this.node.dataset.testid = 'envlock-panel';
    this.title.icon = envlockIcon;
    this.title.caption = 'Project environment (envlock)';
  }

  render(): JSX.Element {
    return (
      <UseSignal signal={this._model.changed}>
        {() => <PanelView model={this._model} />}
      </UseSignal>
    );
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._model.setConsumerActive('panel', true);
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._model.setConsumerActive('panel', false);
  }

  protected onBeforeDetach(msg: Message): void {
    this._model.setConsumerActive('panel', false);
    super.onBeforeDetach(msg);
  }

  private _model: EnvlockModel;
}

function StateBadge({ state }: { state: DisplayState }): JSX.Element {
  return (
    <span
      className={`jp-EnvlockPanel-badge jp-mod-${state}`}
      data-testid="envlock-state"
      data-state={state}
      title={STATE_TEXT[state]}
    >
      {state}
    </span>
  );
}

function describeChange(change: Change): string {
  switch (change.kind) {
    case 'added':
      return `+ ${change.name} ${change.new ?? ''}`.trim();
    case 'removed':
      return `− ${change.name} ${change.old ?? ''}`.trim();
    case 'upgraded':
      return `↑ ${change.name} ${change.old ?? '?'} → ${change.new ?? '?'}`;
    case 'downgraded':
      return `↓ ${change.name} ${change.old ?? '?'} → ${change.new ?? '?'}`;
    default:
      return change.name;
  }
}

function summarizeNoChange(report: ChangeReport): string {
  if (report.env && !report.env.noop) {
    return 'Environment synced with the lock.';
  }
  if (report.env && report.env.noop) {
    return 'Already in sync: nothing to do.';
  }
  if (report.lock_changed) {
    return 'Lock updated; no version changed.';
  }
  return 'Nothing changed.';
}

function Report({ report }: { report: ChangeReport }): JSX.Element {
  const changes = report.changes ?? [];
  return (
    <div className="jp-EnvlockPanel-report" data-testid="envlock-report">
      {changes.length === 0 ? (
        <span>{summarizeNoChange(report)}</span>
      ) : (
        <ul>
          {changes.map(change => (
            <li
              key={`${change.kind}-${change.name}`}
              className={`jp-mod-${change.kind}`}
              data-kind={change.kind}
            >
              {describeChange(change)}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function DriftList({ drift }: { drift: Drift | undefined }): JSX.Element | null {
  if (!drift) {
    return null;
  }
  const items: string[] = [
    ...(drift.missing ?? []).map(d => `missing ${d.name} ${d.locked ?? ''}`),
    ...(drift.extra ?? []).map(d => `extra ${d.name} ${d.installed ?? ''}`),
    ...(drift.changed ?? []).map(
      d => `${d.name} ${d.installed ?? '?'} installed, ${d.locked ?? '?'} locked`
    )
  ];
  if (items.length === 0) {
    return null;
  }
  const shown = items.slice(0, 8);
  return (
    <ul className="jp-EnvlockPanel-drift">
      {shown.map(item => (
        <li key={item}>{item.trim()}</li>
      ))}
      {items.length > shown.length && (
        <li>… and {items.length - shown.length} more</li>
      )}
    </ul>
  );
}

function FixPrompt({
  model,
  disabled
}: {
  model: EnvlockModel;
  disabled: boolean;
}): JSX.Element | null {
  const state = model.details?.status.state;
  let text: string;
  let label: string;
  let action: () => void;
  switch (state) {
    case 'lock-out-of-date':
      text = 'pyproject.toml changed since pylock.toml was written.';
      label = 'Re-lock and sync';
      action = () => void model.relockAndSync();
      break;
    case 'no-lock':
      text = 'This project has no pylock.toml yet.';
      label = 'Lock and sync';
      action = () => void model.relockAndSync();
      break;
    case 'env-out-of-date':
      text = 'The environment differs from pylock.toml.';
      label = 'Sync';
      action = () => void model.sync();
      break;
    case 'no-env':
      text = 'The environment has not been built yet.';
      label = 'Build';
      action = () => void model.sync();
      break;
    default:
      return null;
  }
  return (
    <div
      className="jp-EnvlockPanel-fix"
      data-testid="envlock-drift"
      data-state={state}
    >
      <span>{text}</span>
      {state === 'env-out-of-date' && (
        <DriftList drift={model.details?.status.drift} />
      )}
      <button
        className="jp-EnvlockPanel-button jp-mod-accept"
        data-testid="envlock-fix"
        disabled={disabled}
        onClick={action}
      >
        {label}
      </button>
    </div>
  );
}

function groupDependencies(
  deps: readonly Dependency[]
): Array<[string | null, Dependency[]]> {
  const groups = new Map<string | null, Dependency[]>();
  for (const dep of deps) {
    const key = dep.group ?? null;
    if (!groups.has(key)) {
      groups.set(key, []);
    }
    groups.get(key)!.push(dep);
  }
  const keys = [...groups.keys()].sort((a, b) =>
    a === null ? -1 : b === null ? 1 : a.localeCompare(b)
  );
  return keys.map(key => [key, groups.get(key)!]);
}

function Dependencies({
  deps,
  disabled,
  onRemove
}: {
  deps: readonly Dependency[];
  disabled: boolean;
  onRemove: (dep: Dependency) => void;
}): JSX.Element {
  if (deps.length === 0) {
    return (
      <div className="jp-EnvlockPanel-empty" data-testid="envlock-deps-empty">
        No direct dependencies yet.
      </div>
    );
  }
  return (
    <div className="jp-EnvlockPanel-deps" data-testid="envlock-deps">
      {groupDependencies(deps).map(([group, items]) => (
        <section
          key={group ?? ''}
          className="jp-EnvlockPanel-group"
          data-group={group ?? 'main'}
        >
          <h3 className="jp-EnvlockPanel-groupTitle">
            {group === null ? 'main' : group}
          </h3>
          <ul>
            {items.map(dep => (
              <li
                key={`${group ?? ''}:${dep.name}`}
                className="jp-EnvlockPanel-dep"
                data-testid="envlock-dep-row"
                data-name={dep.name}
                data-group={group ?? ''}
              >
                <span
                  className="jp-EnvlockPanel-depRequirement"
                  title={dep.requirement}
                >
                  {dep.requirement}
                </span>
                <span
                  className={
                    'jp-EnvlockPanel-depLocked' +
                    (dep.locked ? '' : ' jp-mod-unlocked')
                  }
                  data-testid="envlock-dep-locked"
                  title={dep.locked ? 'Locked version' : 'Not in the lock'}
                >
                  {dep.locked ?? 'not locked'}
                </span>
                <button
                  className="jp-EnvlockPanel-remove"
                  data-testid={`envlock-remove-${dep.name}`}
                  title={`Remove ${dep.name}`}
                  aria-label={`Remove ${dep.name}`}
                  disabled={disabled}
                  onClick={() => onRemove(dep)}
                >
                  ×
                </button>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </div>
  );
}

function AddForm({
  model,
  disabled,
  groups
}: {
  model: EnvlockModel;
  disabled: boolean;
  groups: string[];
}): JSX.Element {
  const [value, setValue] = useState('');
  const [group, setGroup] = useState('');
  const [invalid, setInvalid] = useState<string | null>(null);

  const submit = async (event: React.FormEvent): Promise<void> => {
    event.preventDefault();
    if (disabled) {
      return;
    }
    const check = checkRequirement(value);
    if (!check.ok) {
      setInvalid(check.reason ?? 'Not a valid requirement.');
      return;
    }
    setInvalid(null);
    const ok = await model.add(value.trim(), group === '' ? null : group);
    if (ok) {
      setValue('');
    }
  };

  return (
    <form
      className="jp-EnvlockPanel-add"
      onSubmit={event => void submit(event)}
      data-testid="envlock-add-form"
    >
      <div className="jp-EnvlockPanel-addRow">
        <input
          className="jp-EnvlockPanel-input"
          data-testid="envlock-add-input"
          type="text"
          spellCheck={false}
          autoComplete="off"
          placeholder="Add a requirement, e.g. pandas>=2"
          aria-label="Requirement to add"
          aria-invalid={invalid !== null}
          value={value}
          onChange={event => {
            setValue(event.target.value);
            if (invalid !== null) {
              setInvalid(null);
            }
          }}
        />
        {groups.length > 0 && (
          <select
            className="jp-EnvlockPanel-select"
            data-testid="envlock-add-group"
            aria-label="Dependency group"
            value={group}
            onChange={event => setGroup(event.target.value)}
          >
            <option value="">main</option>
            {groups.map(g => (
              <option key={g} value={g}>
                {g}
              </option>
            ))}
          </select>
        )}
        <button
          type="submit"
          className="jp-EnvlockPanel-button jp-mod-accept"
          data-testid="envlock-add-button"
          disabled={disabled}
        >
          Add
        </button>
      </div>
      {invalid !== null && (
        <div
          className="jp-EnvlockPanel-invalid"
          data-testid="envlock-add-invalid"
          role="alert"
        >
          {invalid}
        </div>
      )}
    </form>
  );
}

function ProjectPicker({ model }: { model: EnvlockModel }): JSX.Element | null {
  const projects = model.projects;
  if (projects.length === 0) {
    return null;
  }
  const current = model.project ? normalizePath(model.project.path) : '';
  return (
    <label className="jp-EnvlockPanel-picker">
      <span>Project</span>
      <select
        className="jp-EnvlockPanel-select"
        data-testid="envlock-project-select"
        value={model.project ? current : '__none__'}
        onChange={event => {
          const value = event.target.value;
          model.selectProject(value === '__none__' ? null : value);
        }}
      >
        {!model.project && <option value="__none__">(none)</option>}
        {projects.map(p => (
          <option key={p.path} value={normalizePath(p.path)}>
            {p.name} ({normalizePath(p.path) || '.'})
          </option>
        ))}
      </select>
      {model.pinned && (
        <button
          className="jp-EnvlockPanel-link"
          data-testid="envlock-follow-notebook"
          onClick={() => model.selectProject(null)}
          title="Show the project of the current notebook again"
        >
          follow notebook
        </button>
      )}
    </label>
  );
}

function PanelView({ model }: { model: EnvlockModel }): JSX.Element {
  const project = model.project;
  const details = model.details;
  const busy = model.busy !== null;
  const build = model.build;
  const serverBusy = model.serverBusy;
  const state = model.state;
  const deps = details?.dependencies ?? [];
  const groups = [
    ...new Set(deps.map(d => d.group).filter((g): g is string => !!g))
  ].sort();

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
            <dd data-testid="envlock-python">
              {details?.status.python ?? '—'}
            </dd>
            <dt>Kernel</dt>
            <dd data-testid="envlock-kernel-name">
              {project.kernel_name ?? '—'}
            </dd>
            {details?.status.env_path && (
              <>
                <dt>Env</dt>
                <dd
                  className="jp-EnvlockPanel-envPath"
                  title={details.status.env_path}
                >
                  {details.status.env_path}
                </dd>
              </>
            )}
          </dl>
        </section>
      )}

      {(busy || build || serverBusy) && (
        <div
          className="jp-EnvlockPanel-progress"
          data-testid="envlock-progress"
          role="status"
        >
          <span className="jp-EnvlockPanel-spinner" aria-hidden="true" />
          <span>
            {build
              ? `${build.phase}${
                  formatCounts(build) ? ` ${formatCounts(build)}` : ''
                }${build.message ? ` — ${build.message}` : ''}`
              : busy
                ? `${model.busy}…`
                : 'Another command is changing this project (a %dep cell, a kernel start or the command line)…'}
          </span>
        </div>
      )}

      {model.error && (
        <div
          className="jp-EnvlockPanel-error"
          data-testid="envlock-error"
          role="alert"
        >
          <span className="jp-EnvlockPanel-errorText">{model.error}</span>
          <button
            className="jp-EnvlockPanel-remove"
            title="Dismiss"
            aria-label="Dismiss"
            onClick={() => model.dismissError()}
          >
            ×
          </button>
        </div>
      )}

      {model.restartPrompt && (
        <div
          className="jp-EnvlockPanel-restart"
          data-testid="envlock-restart-prompt"
        >
          <span>{model.restartPrompt.reason}</span>
          <div className="jp-EnvlockPanel-actions">
            <button
              className="jp-EnvlockPanel-button jp-mod-warn"
              data-testid="envlock-restart-kernel"
              disabled={!model.canRestart}
              title={
                model.canRestart
                  ? 'Restart the current notebook’s kernel'
                  : 'The current notebook has no running kernel'
              }
              onClick={() => void model.restartKernel()}
            >
              Restart kernel
            </button>
            <button
              className="jp-EnvlockPanel-button"
              data-testid="envlock-restart-dismiss"
              onClick={() => model.dismissRestart()}
            >
              Later
            </button>
          </div>
        </div>
      )}

      {project && state !== 'building' && (
        <FixPrompt model={model} disabled={busy} />
      )}

      {project && model.lastReport && <Report report={model.lastReport} />}

      {project && (
        <>
          <div className="jp-EnvlockPanel-actions">
            <button
              className="jp-EnvlockPanel-button"
              data-testid="envlock-sync"
              disabled={busy}
              title="Install exactly what pylock.toml lists into the environment"
              onClick={() => void model.sync()}
            >
              Sync
            </button>
            <button
              className="jp-EnvlockPanel-button"
              data-testid="envlock-relock"
              disabled={busy}
              title="Resolve pyproject.toml again and rewrite pylock.toml (keeps locked versions where possible)"
              onClick={() => void model.relock()}
            >
              Re-lock
            </button>
          </div>

          <AddForm model={model} disabled={busy} groups={groups} />

          {details ? (
            <Dependencies
              deps={deps}
              disabled={busy}
              onRemove={dep => void model.remove(dep)}
            />
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
