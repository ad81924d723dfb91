// The package itself: package.json as the brief sets it (ES module, main, types, engines, no dependencies), every export declared in src/index.d.ts, the test files each saying what they are for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';

import * as camd from '../src/index.js';

const read = (p) => readFileSync(new URL(p, import.meta.url), 'utf8');

test('package.json: an ES module with main, types, engines node >=20 and no dependencies', () => {
  const pkg = JSON.parse(read('../package.json'));
  assert.equal(pkg.type, 'module');
  assert.equal(pkg.main, './src/index.js');
  assert.equal(pkg.types, './src/index.d.ts');
  assert.equal(pkg.engines.node, '>=20');
  for (const k of ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies']) assert.equal(pkg[k], undefined, k);
});

test('every export of src/index.js is declared in src/index.d.ts', () => {
  const dts = read('../src/index.d.ts');
  const declared = new Set([...dts.matchAll(/^export (?:declare )?(?:class|function|const|let) (\w+)/gm)].map((m) => m[1]));
  const missing = Object.keys(camd).filter((k) => !declared.has(k));
  assert.deepEqual(missing, []);
  const extra = [...declared].filter((k) => !(k in camd));
  assert.deepEqual(extra, []);
});

test('each test file starts with a comment line saying what it is for', () => {
  const dir = new URL('./', import.meta.url);
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.test.js'))) {
    assert.match(read(`./${f}`).split('\n')[0], /^\/\/ \S.{20,}/, f);
  }
});

test('check is executable', () => {
  assert.ok(statSync(new URL('../check', import.meta.url)).mode & 0o111);
  assert.match(read('../check').split('\n')[0], /^#!\/usr\/bin\/env node$/);
});
