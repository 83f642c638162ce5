import React from 'react';

import { EnvlockModel } from '../model';
import { outdatedRows, outdatedSummary } from '../outdated';

/**
 * The on-demand "Outdated" check: the newest version each direct dependency
 * may have, with Upgrade per row and Upgrade all; offline it says it cannot
 * check and nothing else happens.
 */
export function OutdatedCheck({
  model,
  disabled
}: {
  model: EnvlockModel;
  disabled: boolean;
}): JSX.Element {
  const report = model.outdated;
  const rows = report ? outdatedRows(report) : [];
  const upgradable = rows.filter(row => row.upgradeTo !== null);
  return (
    <section
      className="jp-EnvlockPanel-outdated"
      data-testid="envlock-outdated"
    >
      <div className="jp-EnvlockPanel-actions">
        <button
          className="jp-EnvlockPanel-button"
          data-testid="envlock-outdated-check"
          disabled={disabled || model.checkingOutdated}
          title="Ask the project's indexes for newer versions of the direct dependencies"
          onClick={() => void model.checkOutdated()}
        >
          {model.checkingOutdated ? 'Checking…' : 'Check for updates'}
        </button>
        {upgradable.length > 1 && (
          <button
            className="jp-EnvlockPanel-button jp-mod-accept"
            data-testid="envlock-upgrade-all"
            disabled={disabled}
            title="Re-lock every direct dependency to the newest version its requirement allows, and install"
            onClick={() => void model.upgrade(null)}
          >
            Upgrade all
          </button>
        )}
      </div>
      {report && (
        <div
          className={
            'jp-EnvlockPanel-outdatedSummary' +
            (report.checked ? '' : ' jp-mod-offline')
          }
          data-testid="envlock-outdated-summary"
          data-checked={String(report.checked)}
          role={report.checked ? undefined : 'alert'}
        >
          {outdatedSummary(report)}
        </div>
      )}
      {rows.length > 0 && (
        <ul className="jp-EnvlockPanel-packages">
          {rows.map(row => (
            <li
              key={row.name}
              className="jp-EnvlockPanel-package"
              data-testid="envlock-outdated-row"
              data-name={row.name}
            >
              <div className="jp-EnvlockPanel-packageLine">
                <span className="jp-EnvlockPanel-packageName" title={row.name}>
                  {row.name}
                </span>
                {row.upgradeTo && (
                  <button
                    className="jp-EnvlockPanel-button"
                    data-testid={`envlock-upgrade-${row.name}`}
                    disabled={disabled}
                    title={`Re-lock ${row.name} only, to ${row.upgradeTo}, and install it`}
                    onClick={() => void model.upgrade([row.name])}
                  >
                    Upgrade
                  </button>
                )}
              </div>
              <div className="jp-EnvlockPanel-packageReason">
                <span
                  className="jp-EnvlockPanel-versions"
                  data-testid="envlock-outdated-versions"
                >
                  {row.upgradeTo
                    ? `${row.locked} → ${row.upgradeTo}`
                    : row.locked}
                </span>
                {row.note && <span> · {row.note}</span>}
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
