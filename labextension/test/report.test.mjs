// What an action changed, drift lines and dependency groups (lib/report.js, lib/dependencies.js): `jlpm test`.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { groupDependencies, groupNames } from '../lib/dependencies.js';
import {
  DRIFT_LINES_SHOWN,
  describeChange,
  driftLines,
  summarizeNoChange
} from '../lib/report.js';

test('each kind of change reads with its sign and versions', () => {
  assert.equal(
    describeChange({ kind: 'added', name: 'tinya', old: null, new: '2.0.0' }),
    '+ tinya 2.0.0'
  );
  assert.equal(
    describeChange({ kind: 'removed', name: 'tinyd', old: '1.1.0', new: null }),
    '− tinyd 1.1.0'
  );
  assert.equal(
    describeChange({ kind: 'upgraded', name: 'b', old: '1.0', new: '2.0' }),
    '↑ b 1.0 → 2.0'
  );
  assert.equal(
    describeChange({ kind: 'downgraded', name: 'b', old: '2.0', new: null }),
    '↓ b 2.0 → ?'
  );
  assert.equal(
    describeChange({ kind: 'added', name: 'x', old: null, new: null }),
    '+ x'
  );
  assert.equal(
    describeChange({ kind: 'renamed', name: 'x', old: null, new: null }),
    'x'
  );
});

test('no version changed: the sentence says what happened', () => {
  const report = { changes: [], lock_changed: false };
  assert.equal(
    summarizeNoChange({ ...report, env: { noop: false } }),
    'Environment synced with the lock.'
  );
  assert.equal(
    summarizeNoChange({ ...report, env: { noop: true } }),
    'Already in sync: nothing to do.'
  );
  assert.equal(
    summarizeNoChange({ ...report, lock_changed: true, env: null }),
    'Lock updated; no version changed.'
  );
  assert.equal(summarizeNoChange(report), 'Nothing changed.');
});

test('drift lines: missing, extra, then changed', () => {
  const drift = {
    missing: [{ name: 'a', locked: '1.0' }],
    extra: [{ name: 'b', installed: null }],
    changed: [{ name: 'c', installed: '2.0', locked: '1.0' }]
  };
  assert.deepEqual(driftLines(drift), [
    'missing a 1.0',
    'extra b',
    'c 2.0 installed, 1.0 locked'
  ]);
  assert.deepEqual(driftLines(undefined), []);
  assert.deepEqual(driftLines({ missing: [], extra: [], changed: [] }), []);
  assert.ok(DRIFT_LINES_SHOWN > 0);
});

test('dependencies by group: main first, then the groups by name', () => {
  const deps = [
    { name: 'pytest', requirement: 'pytest', group: 'test', locked: '8.0' },
    { name: 'pandas', requirement: 'pandas>=2', group: null, locked: '2.2' },
    { name: 'ruff', requirement: 'ruff', group: 'dev', locked: null },
    { name: 'numpy', requirement: 'numpy', group: null, locked: '2.0' }
  ];
  const grouped = groupDependencies(deps).map(([group, items]) => [
    group,
    items.map(d => d.name)
  ]);
  assert.deepEqual(grouped, [
    [null, ['pandas', 'numpy']],
    ['dev', ['ruff']],
    ['test', ['pytest']]
  ]);
  assert.deepEqual(groupNames(deps), ['dev', 'test']);
  assert.deepEqual(groupDependencies([]), []);
});
