import assert from 'node:assert/strict';
import { test } from 'node:test';
import { slugify } from '../src/index.js';

test('slugify folds accents, lowercases and joins words with single dashes', () => {
  assert.equal(slugify('Crème Brûlée'), 'creme-brulee');
  assert.equal(slugify('  Hello,   World!  '), 'hello-world');
  assert.equal(slugify('already-a-slug'), 'already-a-slug');
  assert.equal(slugify('***'), '');
});

test('slugify cuts at maxLength without leaving a trailing dash', () => {
  assert.equal(slugify('abc def', 4), 'abc');
  assert.throws(() => slugify('x', 0), RangeError);
});
