// Every locked package and the outdated rows (lib/packages.js, lib/outdated.js): `jlpm test`.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { outdatedRows, outdatedSummary } from '../lib/outdated.js';
import { canonicalName, filterPackages, reasonText } from '../lib/packages.js';

const pandas = {
  name: 'pandas',
  version: '2.2.3',
  direct: true,
  groups: [null],
  required_by: []
};
const numpy = {
  name: 'numpy',
  version: '2.1.0',
  direct: false,
  groups: [],
  required_by: ['pandas', 'scikit-learn']
};
const sklearn = {
  name: 'scikit-learn',
  version: '1.5.2',
  direct: true,
  groups: [null, 'dev'],
  required_by: []
};
const ipykernel = {
  name: 'ipykernel',
  version: '6.29.5',
  direct: false,
  groups: [],
  required_by: [],
  kernel: true
};
const all = [numpy, ipykernel, sklearn, pandas];

test('why a package is there', () => {
  assert.equal(reasonText(pandas), 'direct (main)');
  assert.equal(reasonText(sklearn), 'direct (main, dev)');
  assert.equal(reasonText(numpy), 'required by pandas, scikit-learn');
  assert.equal(reasonText(ipykernel), 'needed by the kernel');
  assert.equal(
    reasonText({ ...ipykernel, kernel: false }),
    'not required by anything'
  );
  // no env yet: who requires whom is not known, and not claimed
  assert.equal(reasonText(numpy, false), 'required by pandas, scikit-learn');
  assert.equal(
    reasonText({ ...numpy, required_by: [] }, false),
    'required by: known once the environment is built'
  );
  assert.equal(reasonText(pandas, false), 'direct (main)');
  assert.equal(reasonText(ipykernel, false), 'needed by the kernel');
  assert.equal(
    reasonText({ ...numpy, direct: true, groups: ['dev'] }),
    'direct (dev) · required by pandas, scikit-learn'
  );
});

test('no filter: everything, direct dependencies first, then by name', () => {
  assert.deepEqual(
    filterPackages(all, '').map(p => p.name),
    ['pandas', 'scikit-learn', 'ipykernel', 'numpy']
  );
});

test('the filter matches names and what requires them, however spelled', () => {
  assert.deepEqual(
    filterPackages(all, 'NUM').map(p => p.name),
    ['numpy']
  );
  assert.deepEqual(
    filterPackages(all, 'scikit_learn').map(p => p.name),
    ['scikit-learn', 'numpy']
  );
  assert.deepEqual(
    filterPackages(all, 'pandas num').map(p => p.name),
    ['numpy']
  );
  assert.deepEqual(filterPackages(all, 'zzz'), []);
  assert.equal(canonicalName('Zope.Interface__x'), 'zope-interface-x');
});

test('outdated rows: upgrade to what the specifiers allow, say what they do not', () => {
  const report = {
    checked: true,
    message: null,
    outdated: [
      {
        name: 'pandas',
        group: null,
        requirement: 'pandas>=2,<3',
        locked: '2.2.3',
        allowed: '2.3.1',
        latest: '3.0.0'
      },
      {
        name: 'tinya',
        group: null,
        requirement: 'tinya<2',
        locked: '1.1.0',
        allowed: '1.1.0',
        latest: '2.0.0'
      }
    ]
  };
  assert.deepEqual(outdatedRows(report), [
    {
      name: 'pandas',
      locked: '2.2.3',
      upgradeTo: '2.3.1',
      note: '3.0.0 is out: pandas>=2,<3 does not allow it'
    },
    {
      name: 'tinya',
      locked: '1.1.0',
      upgradeTo: null,
      note: '2.0.0 is out: tinya<2 does not allow it'
    }
  ]);
  assert.equal(outdatedSummary(report), '1 dependency can be upgraded.');
});

test('offline, up to date, or held back by the manifest: one sentence each', () => {
  const offline = {
    checked: false,
    message: 'Cannot check for newer versions: the index is unreachable',
    outdated: []
  };
  assert.equal(outdatedSummary(offline), offline.message);
  assert.deepEqual(outdatedRows(offline), []);
  assert.equal(
    outdatedSummary({ checked: true, message: null, outdated: [] }),
    'Every direct dependency is at its newest version.'
  );
  assert.match(
    outdatedSummary({
      checked: true,
      message: null,
      outdated: [
        {
          name: 'a',
          group: null,
          requirement: 'a<2',
          locked: '1',
          allowed: '1',
          latest: '2'
        }
      ]
    }),
    /do not allow them/
  );
});
