import React from 'react';

import { IChangeReport } from '../api';
import { describeChange, summarizeNoChange } from '../report';

/** What the last action changed: one line per package, or a sentence when no version changed. */
export function ActionReport({
  report
}: {
  report: IChangeReport;
}): JSX.Element {
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
