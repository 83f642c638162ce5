import React from 'react';

import { DisplayState, STATE_TEXT } from '../state';

/** The project's state as a coloured pill (`data-state` for tests and styles). */
export function StateBadge({ state }: { state: DisplayState }): JSX.Element {
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
