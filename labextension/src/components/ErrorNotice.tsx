import React from 'react';

/** The last error, with a button to dismiss it. */
export function ErrorNotice({
  message,
  onDismiss
}: {
  message: string;
  onDismiss: () => void;
}): JSX.Element {
  return (
    <div
      className="jp-EnvlockPanel-error"
      data-testid="envlock-error"
      role="alert"
    >
      <span className="jp-EnvlockPanel-errorText">{message}</span>
      <button
        className="jp-EnvlockPanel-remove"
        title="Dismiss"
        aria-label="Dismiss"
        onClick={onDismiss}
      >
        ×
      </button>
    </div>
  );
}
