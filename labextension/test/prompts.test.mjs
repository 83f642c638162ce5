// The fix prompt per project state (lib/prompts.js): `jlpm test`.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { FIX_PROMPTS, fixPromptFor } from '../lib/prompts.js';

test('a stale or missing lock is re-locked and synced in one click', () => {
  assert.deepEqual(
    [
      fixPromptFor('lock-out-of-date').label,
      fixPromptFor('lock-out-of-date').action
    ],
    ['Re-lock and sync', 'relockAndSync']
  );
  assert.deepEqual(
    [fixPromptFor('no-lock').label, fixPromptFor('no-lock').action],
    ['Lock and sync', 'relockAndSync']
  );
});

test('an environment that differs from the lock is synced, with the drift listed', () => {
  const prompt = fixPromptFor('env-out-of-date');
  assert.equal(prompt.label, 'Sync');
  assert.equal(prompt.action, 'sync');
  assert.equal(prompt.showDrift, true);
  const build = fixPromptFor('no-env');
  assert.deepEqual(
    [build.label, build.action, build.showDrift],
    ['Build', 'sync', false]
  );
});

test('in sync, busy or unknown: no prompt', () => {
  for (const state of ['in-sync', 'busy', null, undefined, 'error']) {
    assert.equal(fixPromptFor(state), null, String(state));
  }
});

test('every prompt says what is wrong and names a model action', () => {
  assert.deepEqual(Object.keys(FIX_PROMPTS).sort(), [
    'env-out-of-date',
    'lock-out-of-date',
    'no-env',
    'no-lock'
  ]);
  for (const [state, prompt] of Object.entries(FIX_PROMPTS)) {
    assert.ok(prompt.text.endsWith('.'), state);
    assert.ok(['relockAndSync', 'sync'].includes(prompt.action), state);
  }
});
