import React from 'react';

/** A notebook outside the project its kernel belongs to: say which project is changed. */
export function OutsideProjectWarning({
  message
}: {
  message: string;
}): JSX.Element {
  return (
    <div
      className="jp-EnvlockPanel-warning jp-EnvlockPanel-outside"
      data-testid="envlock-outside-warning"
      role="alert"
    >
      {message}
    </div>
  );
}
