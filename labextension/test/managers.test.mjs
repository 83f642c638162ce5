// Which tool owns a project, as the panel names it (lib/managers.js): `jlpm test`.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { groupDependencies, groupNames } from '../lib/dependencies.js';
import { forLockFile, managerLabel } from '../lib/managers.js';

test('each manager is named with its lock file', () => {
  assert.equal(managerLabel('pylock'), 'envlock (pylock.toml)');
  assert.equal(managerLabel('uv'), 'uv (uv.lock)');
  assert.equal(managerLabel('poetry'), 'Poetry (poetry.lock)');
  assert.equal(managerLabel('hatch'), 'Hatch (pylock.toml)');
  assert.equal(managerLabel('someday'), 'someday');
  assert.equal(managerLabel(null), '—');
});

test('texts about the lock name the project own lock file', () => {
  const text = 'pyproject.toml changed since pylock.toml was written.';
  assert.equal(
    forLockFile(text, 'uv'),
    'pyproject.toml changed since uv.lock was written.'
  );
  assert.equal(forLockFile(text, 'pylock'), text);
  assert.equal(forLockFile(text, undefined), text);
});

test("a project's extras are listed apart, and are no group to add to", () => {
  const deps = [
    { name: 'a', requirement: 'a', group: null, locked: '1' },
    { name: 'b', requirement: 'b', group: null, locked: '1', extra: 'plot' },
    { name: 'c', requirement: 'c', group: 'dev', locked: '1' }
  ];
  assert.deepEqual(
    groupDependencies(deps).map(([key, items]) => [
      key,
      items.map(d => d.name)
    ]),
    [
      [null, ['a']],
      ['dev', ['c']],
      ['extra: plot', ['b']]
    ]
  );
  assert.deepEqual(groupNames(deps), ['dev']);
});
