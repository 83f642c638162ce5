import React from 'react';

/** Text with a line-break opportunity after each "/", so paths wrap between folders. */
export function withPathBreaks(text: string): React.ReactNode[] {
  const parts = text.split('/');
  return parts.flatMap((part, i) =>
    i < parts.length - 1 ? [part, '/', <wbr key={i} />] : [part]
  );
}

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
      {withPathBreaks(message)}
    </div>
  );
}
