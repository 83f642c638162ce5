import React from 'react';

import { EnvlockModel } from '../model';

/** The Sync and Re-lock buttons. */
export function ProjectActions({
  model,
  disabled
}: {
  model: EnvlockModel;
  disabled: boolean;
}): JSX.Element {
  return (
    <div className="jp-EnvlockPanel-actions">
      <button
        className="jp-EnvlockPanel-button"
        data-testid="envlock-sync"
        disabled={disabled}
        title="Install exactly what pylock.toml lists into the environment"
        onClick={() => void model.sync()}
      >
        Sync
      </button>
      <button
        className="jp-EnvlockPanel-button"
        data-testid="envlock-relock"
        disabled={disabled}
        title="Resolve pyproject.toml again and rewrite pylock.toml (keeps locked versions where possible)"
        onClick={() => void model.relock()}
      >
        Re-lock
      </button>
    </div>
  );
}
