import React from 'react';

import { forLockFile } from '../managers';
import { EnvlockModel } from '../model';
import { fixPromptFor } from '../prompts';
import { DriftList } from './DriftList';

/** The one-click fix for a stale or missing lock or environment (see FIX_PROMPTS). */
export function FixPrompt({
  model,
  disabled
}: {
  model: EnvlockModel;
  disabled: boolean;
}): JSX.Element | null {
  const status = model.details?.status;
  const prompt = fixPromptFor(status?.state);
  if (!status || !prompt) {
    return null;
  }
  return (
    <div
      className="jp-EnvlockPanel-fix"
      data-testid="envlock-drift"
      data-state={status.state}
    >
      <span>{forLockFile(prompt.text, status.project.manager)}</span>
      {prompt.showDrift && <DriftList drift={status.drift} />}
      <button
        className="jp-EnvlockPanel-button jp-mod-accept"
        data-testid="envlock-fix"
        disabled={disabled}
        onClick={() => void model[prompt.action]()}
      >
        {prompt.label}
      </button>
    </div>
  );
}
