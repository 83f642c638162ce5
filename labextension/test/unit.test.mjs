// Unit tests of the pure helpers, on the compiled lib/ (run `jlpm build:lib` first): `jlpm test`.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { checkRequirement } from '../lib/requirement.js';
import { normalizePath, resolveProject } from '../lib/resolve.js';

test('valid PEP 508 requirements pass', () => {
  for (const spec of [
    'pandas',
    'scikit-learn>=1.5',
    'requests[socks]==2.32.3',
    'numpy; python_version >= "3.11"',
    'pkg @ https://example.org/pkg-1.0-py3-none-any.whl',
    'torch>=2,<3',
    'foo==1.*',
    'Django~=4.2.0',
    'a (>=1)',
    'zope.interface',
    'pandas >= 2',
    'foo!=1.0rc1'
  ]) {
    assert.equal(checkRequirement(spec).ok, true, spec);
  }
});

test('invalid requirements fail with a reason', () => {
  for (const spec of [
    '',
    'foo bar',
    'numpy =1.2',
    '-x',
    'foo[bar',
    'foo>=',
    'foo;',
    'pkg @ notaurl',
    'foo>>1',
    'foo>=1,'
  ]) {
    const check = checkRequirement(spec);
    assert.equal(check.ok, false, spec);
    assert.ok(check.reason && check.reason.length > 5, spec);
  }
});

const projects = [
  { name: 'root', path: '.', kernel_name: 'envlock-root', state: 'in-sync' },
  {
    name: 'sales',
    path: 'sales',
    kernel_name: 'envlock-sales',
    state: 'in-sync'
  },
  {
    name: 'deep',
    path: 'sales/deep',
    kernel_name: 'envlock-deep',
    state: 'no-env'
  }
];

test('project resolution: kernel name first, then the longest containing path', () => {
  assert.equal(
    resolveProject(projects, 'envlock-sales', 'elsewhere/a.ipynb').name,
    'sales'
  );
  assert.equal(
    resolveProject(projects, 'python3', 'sales/deep/x/a.ipynb').name,
    'deep'
  );
  assert.equal(
    resolveProject(projects, 'python3', 'sales/a.ipynb').name,
    'sales'
  );
  assert.equal(resolveProject(projects, null, 'salesman/a.ipynb').name, 'root');
  assert.equal(
    resolveProject(projects.slice(1), null, 'salesman/a.ipynb'),
    null
  );
  assert.equal(resolveProject(projects, null, null), null);
});

test('paths are normalized', () => {
  assert.equal(normalizePath('.'), '');
  assert.equal(normalizePath('./a/b/'), 'a/b');
  assert.equal(normalizePath('/a'), 'a');
  assert.equal(normalizePath(null), '');
});
