import React from 'react';

import { IStatus } from '../api';
import { EnvlockModel } from '../model';
import { planLines, trustCommand } from '../trust';
import { withPathBreaks } from './OutsideProjectWarning';

/**
 * A project that is not trusted yet: what building its environment would do,
 * and the "Trust and build" button (trust it, build with the usual progress,
 * and start the notebook's kernel). Until then envlock builds and runs
 * nothing from it on its own.
 */
export function TrustCard({
  model,
  status,
  disabled
}: {
  model: EnvlockModel;
  status: IStatus;
  disabled: boolean;
}): JSX.Element | null {
  const trust = status.trust;
  if (!trust || trust.trusted) {
    return null;
  }
  return (
    <section
      className="jp-EnvlockPanel-trust"
      data-testid="envlock-trust-card"
      aria-labelledby="jp-EnvlockPanel-trustTitle"
    >
      <h3
        className="jp-EnvlockPanel-trustTitle"
        id="jp-EnvlockPanel-trustTitle"
      >
        This project is not trusted yet
      </h3>
      <p>
        envlock has not built its environment or run anything from it. Building
        it runs code from this repository and its packages, as{' '}
        <code>pip install</code> would:
      </p>
      <ul className="jp-EnvlockPanel-plan" data-testid="envlock-trust-plan">
        {planLines(trust.plan).map(line => (
          <li key={line.text} className={line.warn ? 'jp-mod-warn' : undefined}>
            {withPathBreaks(line.text)}
          </li>
        ))}
      </ul>
      <p className="jp-EnvlockPanel-trustNote">
        Trust only a repository whose code you would run: trusting is not a
        sandbox.
      </p>
      <button
        className="jp-EnvlockPanel-button jp-mod-accept"
        data-testid="envlock-trust"
        disabled={disabled}
        onClick={() => void model.trustAndBuild()}
      >
        Trust and build
      </button>
      <p className="jp-EnvlockPanel-trustCommand">
        or in a terminal:{' '}
        <code>{withPathBreaks(trustCommand(status.project.path))}</code>
      </p>
    </section>
  );
}
