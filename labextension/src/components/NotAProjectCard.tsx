import React from 'react';

import { IProjectSummary } from '../api';
import { EnvlockModel } from '../model';

/**
 * A folder that is not an envlock project: what it is and what envlock can
 * do with it; a requirements.txt folder gets the button that makes it one.
 */
export function NotAProjectCard({
  model,
  folder,
  disabled
}: {
  model: EnvlockModel;
  folder: IProjectSummary;
  disabled: boolean;
}): JSX.Element {
  return (
    <div
      className="jp-EnvlockPanel-notProject"
      data-testid="envlock-not-a-project"
      data-kind={folder.kind ?? ''}
    >
      <span>{folder.message ?? 'This folder is not an envlock project.'}</span>
      {folder.kind === 'requirements' && (
        <button
          className="jp-EnvlockPanel-button jp-mod-accept"
          data-testid="envlock-init"
          title="Write pyproject.toml from requirements.txt (each requirement as written) and lock it"
          disabled={disabled}
          onClick={() => void model.initProject()}
        >
          Make it a project
        </button>
      )}
    </div>
  );
}
