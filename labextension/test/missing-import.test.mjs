// The missing-import hint's bundle and words (lib/missingImport.js): `jlpm test`.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  actionLabel,
  hintText,
  MISSING_IMPORT_MIME,
  readMissingImport
} from '../lib/missingImport.js';

const bundle = {
  module: 'sklearn',
  distribution: 'scikit-learn',
  action: 'add',
  command: '%dep add scikit-learn',
  project: 'sales',
  kernel_name: 'envlock-sales'
};

test('the MIME type of the contract', () => {
  assert.equal(
    MISSING_IMPORT_MIME,
    'application/vnd.jupyter-envlock.missing-import+json'
  );
});

test('a valid hint is read as sent', () => {
  assert.deepEqual(readMissingImport(bundle), bundle);
  const hint = readMissingImport(bundle);
  assert.equal(actionLabel(hint), 'Add scikit-learn to the project');
  assert.equal(
    hintText(hint),
    'scikit-learn provides sklearn. It is not in this project yet.'
  );
});

test('locked but not installed: sync instead', () => {
  const hint = readMissingImport({
    ...bundle,
    action: 'sync',
    command: undefined
  });
  assert.equal(actionLabel(hint), 'Sync the environment');
  assert.equal(hint.command, '%dep sync');
  assert.match(hintText(hint), /in the lock but not installed/);
});

test('anything else is no hint (it comes from a kernel or a saved notebook)', () => {
  for (const bad of [
    null,
    'text',
    {},
    { ...bundle, action: 'install' },
    { ...bundle, distribution: 'x; rm -rf /' },
    { ...bundle, distribution: '' },
    { ...bundle, module: 3 }
  ]) {
    assert.equal(readMissingImport(bad), null, JSON.stringify(bad));
  }
  assert.equal(
    readMissingImport({ ...bundle, kernel_name: 4 }).kernel_name,
    null
  );
});
