import React from 'react';

import { EnvlockModel, IRestartPrompt } from '../model';

/**
 * Why the kernel should restart, with Restart kernel, Restart and run up to
 * this cell (JupyterLab's own command, where it exists), and Later.
 */
export function RestartKernelPrompt({
  model,
  prompt
}: {
  model: EnvlockModel;
  prompt: IRestartPrompt;
}): JSX.Element {
  const noKernel = 'The current notebook has no running kernel';
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
              : noKernel
          }
          onClick={() => void model.restartKernel()}
        >
          Restart kernel
        </button>
        {model.canRestartAndRun && (
          <button
            className="jp-EnvlockPanel-button"
            data-testid="envlock-restart-and-run"
            title="Restart the kernel, then run every cell from the first to the selected one"
            onClick={() => void model.restartAndRunToSelected()}
          >
            Restart and run up to this cell
          </button>
        )}
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
