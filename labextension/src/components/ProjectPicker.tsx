import React from 'react';

import { EnvlockModel, normalizePath } from '../model';

/** Choose the project shown by hand, or follow the current notebook's again. */
export function ProjectPicker({
  model
}: {
  model: EnvlockModel;
}): JSX.Element | null {
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
