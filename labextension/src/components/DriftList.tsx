import React from 'react';

import { IDrift } from '../api';
import { DRIFT_LINES_SHOWN, driftLines } from '../report';

/** The packages that differ between the environment and the lock (the first few). */
export function DriftList({
  drift
}: {
  drift: IDrift | undefined;
}): JSX.Element | null {
  const lines = driftLines(drift);
  if (lines.length === 0) {
    return null;
  }
  const shown = lines.slice(0, DRIFT_LINES_SHOWN);
  return (
    <ul className="jp-EnvlockPanel-drift">
      {shown.map(line => (
        <li key={line}>{line}</li>
      ))}
      {lines.length > shown.length && (
        <li>… and {lines.length - shown.length} more</li>
      )}
    </ul>
  );
}
