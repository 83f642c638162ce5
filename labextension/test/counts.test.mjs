// Build progress counts and the status line (lib/counts.js): `jlpm test`.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  formatCounts,
  progressFraction,
  progressView,
  safeCounts,
  statusLine
} from '../lib/counts.js';

test('a counter never shows more done than total (seen: [6/5], [2/1])', () => {
  assert.equal(formatCounts({ done: 6, total: 5 }), '6/6');
  assert.equal(formatCounts({ done: 2, total: 1 }), '2/2');
  assert.equal(formatCounts({ done: 3, total: 10 }), '3/10');
  assert.deepEqual(safeCounts({ done: -1, total: 4 }), { done: 0, total: 4 });
  assert.deepEqual(safeCounts({ done: 2.7, total: NaN }), {
    done: 2,
    total: null
  });
});

test('counts that are not known are not made up', () => {
  assert.equal(formatCounts({ done: null, total: null }), '');
  assert.equal(formatCounts({ done: 4, total: null }), '4');
  assert.equal(formatCounts({}), '');
  assert.equal(progressFraction({ done: 0, total: 0 }), undefined);
  assert.equal(progressFraction({ done: 3, total: null }), undefined);
});

test('the bar is between 0 and 1', () => {
  assert.equal(progressFraction({ done: 3, total: 4 }), 0.75);
  assert.equal(progressFraction({ done: 9, total: 4 }), 1);
  assert.equal(progressFraction({ done: 0, total: 4 }), 0);
});

test('a progress view: phase and counts, then uv’s line', () => {
  assert.deepEqual(
    progressView({
      phase: 'install',
      done: 3,
      total: 10,
      message: ' Installing tinya '
    }),
    { label: 'install 3/10', message: 'Installing tinya', fraction: 0.3 }
  );
  assert.deepEqual(progressView({ phase: '', message: null }), {
    label: 'working',
    message: '',
    fraction: undefined
  });
});

test('the status line says the state, or the build while one runs', () => {
  assert.equal(statusLine(null, 'unknown', null), 'envlock');
  assert.equal(
    statusLine('sales', 'in-sync', null),
    'envlock: sales · in-sync'
  );
  assert.equal(
    statusLine('sales', 'building', { phase: 'install', done: 7, total: 5 }),
    'envlock: sales · install 7/7'
  );
});
