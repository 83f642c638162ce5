import React from 'react';

import { EnvlockModel } from '../model';

/** The project's buttons below the prompts: what each is called, says and runs. */
const ACTIONS: ReadonlyArray<{
  id: string;
  label: string;
  title: string;
  run: (model: EnvlockModel) => Promise<boolean>;
}> = [
  {
    id: 'sync',
    label: 'Sync',
    title: 'Install exactly what pylock.toml lists into the environment',
    run: model => model.sync()
  },
  {
    id: 'relock',
    label: 'Re-lock',
    title:
      'Resolve pyproject.toml again and rewrite pylock.toml (keeps locked versions where possible)',
    run: model => model.relock()
  }
];

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
      {ACTIONS.map(action => (
        <button
          key={action.id}
          className="jp-EnvlockPanel-button"
          data-testid={`envlock-${action.id}`}
          disabled={disabled}
          title={action.title}
          onClick={() => void action.run(model)}
        >
          {action.label}
        </button>
      ))}
    </div>
  );
}
