import React from 'react';

import { IDependency } from '../api';
import { groupDependencies } from '../dependencies';

/** The project's direct dependencies by group, each with its locked version and a remove button. */
export function DependencyList({
  deps,
  disabled,
  onRemove
}: {
  deps: readonly IDependency[];
  disabled: boolean;
  onRemove: (dep: IDependency) => void;
}): JSX.Element {
  if (deps.length === 0) {
    return (
      <div className="jp-EnvlockPanel-empty" data-testid="envlock-deps-empty">
        No direct dependencies yet.
      </div>
    );
  }
  return (
    <div className="jp-EnvlockPanel-deps" data-testid="envlock-deps">
      {groupDependencies(deps).map(([group, items]) => (
        <section
          key={group ?? ''}
          className="jp-EnvlockPanel-group"
          data-group={group ?? 'main'}
        >
          <h3 className="jp-EnvlockPanel-groupTitle">
            {group === null ? 'main' : group}
          </h3>
          <ul>
            {items.map(dep => (
              <li
                key={`${group ?? ''}:${dep.name}`}
                className="jp-EnvlockPanel-dep"
                data-testid="envlock-dep-row"
                data-name={dep.name}
                data-group={group ?? ''}
              >
                <span
                  className="jp-EnvlockPanel-depRequirement"
                  title={dep.requirement}
                >
                  {dep.requirement}
                </span>
                <span
                  className={
                    'jp-EnvlockPanel-depLocked' +
                    (dep.locked ? '' : ' jp-mod-unlocked')
                  }
                  data-testid="envlock-dep-locked"
                  title={dep.locked ? 'Locked version' : 'Not in the lock'}
                >
                  {dep.locked ?? 'not locked'}
                </span>
                <button
                  className="jp-EnvlockPanel-remove"
                  data-testid={`envlock-remove-${dep.name}`}
                  title={`Remove ${dep.name}`}
                  aria-label={`Remove ${dep.name}`}
                  disabled={disabled}
                  onClick={() => onRemove(dep)}
                >
                  ×
                </button>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </div>
  );
}
