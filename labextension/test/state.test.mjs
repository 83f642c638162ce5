// The badge's state from the server's answers and the client's own work (lib/state.js): `jlpm test`.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { STATE_TEXT, displayState, isServerBusy } from '../lib/state.js';

const idle = { working: false, failed: false, status: null, summary: null };

test('nothing known yet: unknown', () => {
  assert.equal(displayState(idle), 'unknown');
});

test('the status, when read, wins over the project list', () => {
  const facts = {
    ...idle,
    status: { state: 'env-out-of-date' },
    summary: { state: 'in-sync' }
  };
  assert.equal(displayState(facts), 'env-out-of-date');
  assert.equal(
    displayState({ ...idle, summary: { state: 'no-lock' } }),
    'no-lock'
  );
  assert.equal(displayState({ ...idle, summary: { state: 'error' } }), 'error');
});

test('our own work shows as building, even over a failure', () => {
  const facts = {
    ...idle,
    working: true,
    failed: true,
    status: { state: 'no-lock' }
  };
  assert.equal(displayState(facts), 'building');
});

test("the server's busy shows as building, never as drift", () => {
  for (const [status, summary] of [
    [{ state: 'busy', busy: true }, null],
    [{ state: 'lock-out-of-date', busy: true }, null],
    [{ state: 'busy' }, { state: 'in-sync' }],
    [null, { state: 'busy' }]
  ]) {
    assert.equal(
      isServerBusy(status, summary),
      true,
      JSON.stringify([status, summary])
    );
    assert.equal(
      displayState({ ...idle, failed: true, status, summary }),
      'building'
    );
  }
  // a fresh status that is not busy wins over a list entry read while it was
  assert.equal(isServerBusy({ state: 'in-sync' }, { state: 'busy' }), false);
  assert.equal(isServerBusy(null, null), false);
});

test('a failure shows as error over the last known state', () => {
  const facts = { ...idle, failed: true, status: { state: 'in-sync' } };
  assert.equal(displayState(facts), 'error');
});

test('a project not trusted yet shows as untrusted, over its lock and env state', () => {
  for (const state of ['no-lock', 'no-env', 'in-sync', 'lock-out-of-date']) {
    const status = { state, trust: { trusted: false } };
    assert.equal(displayState({ ...idle, status }), 'untrusted', state);
  }
  const trusted = { state: 'no-env', trust: { trusted: true } };
  assert.equal(displayState({ ...idle, status: trusted }), 'no-env');
  // an older server says nothing about trust: nothing changes
  assert.equal(
    displayState({ ...idle, status: { state: 'no-env' } }),
    'no-env'
  );
  // building and failures still show first
  const untrusted = { state: 'no-env', trust: { trusted: false } };
  assert.equal(
    displayState({ ...idle, working: true, status: untrusted }),
    'building'
  );
  assert.equal(
    displayState({ ...idle, failed: true, status: untrusted }),
    'error'
  );
});

test('every state the badge can show has a tooltip', () => {
  const states = [
    'in-sync',
    'lock-out-of-date',
    'env-out-of-date',
    'no-lock',
    'no-env',
    'building',
    'error',
    'not-a-project',
    'untrusted',
    'unknown'
  ];
  assert.deepEqual(Object.keys(STATE_TEXT).sort(), [...states].sort());
  for (const state of states) {
    assert.ok(STATE_TEXT[state].length > 5, state);
  }
});

test('a folder that is not a project shows as such', () => {
  assert.equal(
    displayState({ ...idle, summary: { state: 'not-a-project' } }),
    'not-a-project'
  );
});
