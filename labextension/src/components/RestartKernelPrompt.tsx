import React from 'react';

import { EnvlockModel, IRestartPrompt } from '../model';

/** Why the kernel should restart, with Restart kernel and Later. */
export function RestartKernelPrompt({
  model,
  prompt
}: {
  model: EnvlockModel;
  prompt: IRestartPrompt;
}): JSX.Element {
  return (
    <div
      className="jp-EnvlockPanel-restart"
      data-testid="envlock-restart-prompt"
    >
      <span>{prompt.reason}</span>
      <div className="jp-EnvlockPanel-actions">
        <button
          className="jp-EnvlockPanel-button jp-mod-warn"
          data-testid="envlock-restart-kernel"
          disabled={!model.canRestart}
          title={
            model.canRestart
              ? 'Restart the current notebook’s kernel'
              : 'The current notebook has no running kernel'
          }
          onClick={() => void model.restartKernel()}
        >
          Restart kernel
        </button>
        <button
          className="jp-EnvlockPanel-button"
          data-testid="envlock-restart-dismiss"
          onClick={() => model.dismissRestart()}
        >
          Later
        </button>
      </div>
    </div>
  );
}
