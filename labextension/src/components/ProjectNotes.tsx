import React from 'react';

/** What the user must know first: a missing tool, another tool's project. */
export function ProjectNotes({
  notes
}: {
  notes: readonly string[] | undefined;
}): JSX.Element | null {
  if (!notes || notes.length === 0) {
    return null;
  }
  return (
    <ul className="jp-EnvlockPanel-notes" data-testid="envlock-notes">
      {notes.map(note => (
        <li key={note}>{note}</li>
      ))}
    </ul>
  );
}
