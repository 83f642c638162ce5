import React from 'react';

import { IStatusWarning } from '../api';

/** What the server warns about the environment (say ipywidgets the server cannot render). */
export function StatusWarnings({
  warnings
}: {
  warnings: readonly IStatusWarning[] | undefined;
}): JSX.Element | null {
  if (!warnings || warnings.length === 0) {
    return null;
  }
  return (
    <ul className="jp-EnvlockPanel-warnings">
      {warnings.map(warning => (
        <li
          key={`${warning.kind}:${warning.package ?? ''}`}
          className="jp-EnvlockPanel-warning"
          data-testid="envlock-warning"
          data-kind={warning.kind}
          role="alert"
        >
          {warning.message}
        </li>
      ))}
    </ul>
  );
}
