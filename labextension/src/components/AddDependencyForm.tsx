import React, { useState } from 'react';

import { EnvlockModel } from '../model';
import { checkRequirement } from '../requirement';

/**
 * A requirement field (checked as PEP 508 before it is sent), the group to
 * add it to when the project has groups, and the Add button.
 */
export function AddDependencyForm({
  model,
  disabled,
  groups
}: {
  model: EnvlockModel;
  disabled: boolean;
  groups: string[];
}): JSX.Element {
  const [value, setValue] = useState('');
  const [group, setGroup] = useState('');
  const [invalid, setInvalid] = useState<string | null>(null);

  const submit = async (event: React.FormEvent): Promise<void> => {
    event.preventDefault();
    if (disabled) {
      return;
    }
    const check = checkRequirement(value);
    if (!check.ok) {
      setInvalid(check.reason ?? 'Not a valid requirement.');
      return;
    }
    setInvalid(null);
    const ok = await model.add(value.trim(), group === '' ? null : group);
    if (ok) {
      setValue('');
    }
  };

  return (
    <form
      className="jp-EnvlockPanel-add"
      onSubmit={event => void submit(event)}
      data-testid="envlock-add-form"
    >
      <div className="jp-EnvlockPanel-addRow">
        <input
          className="jp-EnvlockPanel-input"
          data-testid="envlock-add-input"
          type="text"
          spellCheck={false}
          autoComplete="off"
          placeholder="Add a requirement, e.g. pandas>=2"
          aria-label="Requirement to add"
          aria-invalid={invalid !== null}
          value={value}
          onChange={event => {
            setValue(event.target.value);
            if (invalid !== null) {
              setInvalid(null);
            }
          }}
        />
        {groups.length > 0 && (
          <select
            className="jp-EnvlockPanel-select"
            data-testid="envlock-add-group"
            aria-label="Dependency group"
            value={group}
            onChange={event => setGroup(event.target.value)}
          >
            <option value="">main</option>
            {groups.map(g => (
              <option key={g} value={g}>
                {g}
              </option>
            ))}
          </select>
        )}
        <button
          type="submit"
          className="jp-EnvlockPanel-button jp-mod-accept"
          data-testid="envlock-add-button"
          disabled={disabled}
        >
          Add
        </button>
      </div>
      {invalid !== null && (
        <div
          className="jp-EnvlockPanel-invalid"
          data-testid="envlock-add-invalid"
          role="alert"
        >
          {invalid}
        </div>
      )}
    </form>
  );
}
