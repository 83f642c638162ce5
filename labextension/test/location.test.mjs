// Where the project lies seen from the notebook (lib/resolve.js): `jlpm test`.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  dirname,
  isInside,
  outsideWarning,
  projectLocation,
  relativePath
} from '../lib/resolve.js';

test('folders of root-relative paths', () => {
  assert.equal(dirname('sales/analysis.ipynb'), 'sales');
  assert.equal(dirname('analysis.ipynb'), '');
  assert.equal(dirname('/a/b/c.ipynb'), 'a/b');
});

test('a path relative to a folder', () => {
  assert.equal(relativePath('sales', 'sales'), '.');
  assert.equal(relativePath('sales/notebooks', 'sales'), '..');
  assert.equal(relativePath('other', 'sales'), '../sales');
  assert.equal(relativePath('', 'sales'), 'sales');
  assert.equal(relativePath('a/b/c', ''), '../../..');
  assert.equal(relativePath('sales2', 'sales'), '../sales');
});

test('inside a project means the folder or below it, not a name that starts the same', () => {
  assert.ok(isInside('sales/a.ipynb', 'sales'));
  assert.ok(isInside('sales/x/a.ipynb', './sales/'));
  assert.ok(isInside('anything.ipynb', ''));
  assert.ok(!isInside('sales2/a.ipynb', 'sales'));
  assert.ok(!isInside('other/a.ipynb', 'sales'));
});

test('the project seen from a notebook inside it', () => {
  assert.deepEqual(projectLocation('sales', 'sales/nb/a.ipynb'), {
    relative: '..',
    fromRoot: 'sales',
    inside: true,
    notebookDir: 'sales/nb'
  });
  assert.equal(projectLocation('sales', null), null);
  assert.equal(projectLocation('.', 'a.ipynb').relative, '.');
});

test('a notebook outside its kernel’s project is warned, naming what changes', () => {
  const where = projectLocation('sales', 'other/look.ipynb');
  assert.equal(where.inside, false);
  const text = outsideWarning(where, 'sales', 'envlock-sales');
  assert.match(text, /not inside project sales/);
  assert.match(text, /envlock-sales/);
  assert.match(text, /\.\.\/sales\/pyproject\.toml/);
  assert.equal(
    outsideWarning(projectLocation('sales', 'sales/a.ipynb'), 'sales', null),
    null
  );
  assert.equal(outsideWarning(null, 'sales', null), null);
});
