import React, { useState } from 'react';

import { EnvlockModel } from '../model';
import { filterPackages, reasonText } from '../packages';

/**
 * Every locked package with its version and why it is there (direct, or
 * required by which packages), behind a disclosure, with a filter.
 */
export function PackageTree({ model }: { model: EnvlockModel }): JSX.Element {
  const [query, setQuery] = useState('');
  const tree = model.tree;
  const all = tree?.packages ?? [];
  const shown = filterPackages(all, query);
  return (
    <details
      className="jp-EnvlockPanel-tree"
      data-testid="envlock-tree"
      open={model.treeOpen}
      onToggle={event => {
        const open = (event.currentTarget as HTMLDetailsElement).open;
        if (open !== model.treeOpen) {
          model.setTreeOpen(open);
        }
      }}
    >
      <summary data-testid="envlock-tree-toggle">
        All locked packages{tree ? ` (${all.length})` : ''}
      </summary>
      {model.treeError && (
        <div className="jp-EnvlockPanel-invalid" role="alert">
          {model.treeError}
        </div>
      )}
      {!tree && !model.treeError && (
        <div className="jp-EnvlockPanel-empty">Loading…</div>
      )}
      {tree && (
        <>
          <input
            className="jp-EnvlockPanel-input jp-EnvlockPanel-filter"
            data-testid="envlock-tree-filter"
            type="search"
            spellCheck={false}
            autoComplete="off"
            placeholder="Filter by name or by what requires it"
            aria-label="Filter the locked packages"
            value={query}
            onChange={event => setQuery(event.target.value)}
          />
          {shown.length === 0 ? (
            <div
              className="jp-EnvlockPanel-empty"
              data-testid="envlock-tree-empty"
            >
              {all.length === 0
                ? 'Nothing is locked yet.'
                : `No locked package matches “${query.trim()}”.`}
            </div>
          ) : (
            <ul className="jp-EnvlockPanel-packages">
              {shown.map(pkg => {
                const reason = reasonText(
                  pkg,
                  tree.required_by_known !== false
                );
                return (
                  <li
                    key={pkg.name}
                    className={
                      'jp-EnvlockPanel-package' +
                      (pkg.direct ? ' jp-mod-direct' : '')
                    }
                    data-testid="envlock-package-row"
                    data-name={pkg.name}
                  >
                    <div className="jp-EnvlockPanel-packageLine">
                      <span
                        className="jp-EnvlockPanel-packageName"
                        title={pkg.name}
                      >
                        {pkg.name}
                      </span>
                      <span
                        className="jp-EnvlockPanel-depLocked"
                        data-testid="envlock-package-version"
                      >
                        {pkg.version ?? '—'}
                      </span>
                    </div>
                    <div
                      className="jp-EnvlockPanel-packageReason"
                      data-testid="envlock-package-reason"
                    >
                      {reason}
                    </div>
                  </li>
                );
              })}
            </ul>
          )}
        </>
      )}
    </details>
  );
}
