// What the trust card says about a project not trusted yet (lib/trust.js): `jlpm test`.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { needsTrust, planLines, trustCommand } from '../lib/trust.js';

const plan = {
  packages: 31,
  indexes: ['https://pypi.org/simple'],
  source_builds: [],
  editable: false
};

test('a locked project: how many packages, from where, and nothing flagged', () => {
  assert.deepEqual(planLines(plan), [
    { text: 'Installs 31 packages from https://pypi.org/simple', warn: false }
  ]);
  assert.equal(
    planLines({ ...plan, packages: 1 })[0].text,
    'Installs 1 package from https://pypi.org/simple'
  );
});

test('no lock yet: it says so, and where it would resolve from', () => {
  const lines = planLines({ ...plan, packages: null, indexes: ['a', 'b'] });
  assert.equal(
    lines[0].text,
    'No lock yet: resolves its requirements and installs them from a, b'
  );
  assert.match(
    planLines({ ...plan, indexes: [] })[0].text,
    /configured package index/
  );
});

test('source builds and an editable install are flagged: their code runs', () => {
  const lines = planLines({
    ...plan,
    source_builds: ['sdist-helper', 'vcs-helper'],
    editable: true
  });
  assert.equal(lines.length, 3);
  assert.deepEqual(
    lines.slice(1).map(l => l.warn),
    [true, true]
  );
  assert.match(lines[1].text, /sdist-helper, vcs-helper/);
  assert.match(lines[2].text, /editable/);
});

test('only a server that says "not trusted" asks for trust', () => {
  assert.equal(needsTrust({ trusted: false, source: null, plan }), true);
  assert.equal(needsTrust({ trusted: true, source: 'user', plan }), false);
  assert.equal(needsTrust(null), false);
  assert.equal(needsTrust(undefined), false);
});

test('the terminal command quotes a path only when it must', () => {
  assert.equal(
    trustCommand('/home/me/sales'),
    'jupyter envlock trust --project /home/me/sales'
  );
  assert.equal(
    trustCommand("/home/me/my project's"),
    "jupyter envlock trust --project '/home/me/my project'\\''s'"
  );
});
