import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSearchIndex, type SearchIndex } from './fts-index.js';
import type { SearchDocument } from './model.js';

const entity = (name: string, extra: Partial<SearchDocument> = {}): SearchDocument => ({
  id: `component:default/${name}`,
  type: 'software-catalog',
  title: name,
  text: '',
  location: `/catalog/default/component/${name}`,
  kind: 'Component',
  ...extra,
});

describe('FTS5 search index', () => {
  let index: SearchIndex;
  const titles = (term: string, more: Partial<Parameters<SearchIndex['search']>[0]> = {}) =>
    index.search({ term, types: [], filters: [], offset: 0, limit: 25, ...more }).hits.map((h) => h.title);

  beforeEach(() => {
    index = openSearchIndex();
    index.upsert([
      entity('payment-gateway', { text: 'Takes card payments and talks to the acquirer', owner: 'group:default/team-payments', tags: ['java', 'pci'] }),
      entity('payment-ledger', { text: 'Double-entry ledger', owner: 'group:default/team-payments', entityType: 'service', lifecycle: 'production' }),
      entity('checkout-web', { text: 'The shop front; calls payment-gateway', owner: 'group:default/team-checkout', tags: ['react'], entityType: 'website' }),
      entity('component-000123'),
      entity('component-100123'),
    ]);
  });
  afterEach(() => index.close());

  it('matches whole identifiers, their parts and prefixes, title first', () => {
    expect(titles('payment-gateway')[0]).toBe('payment-gateway');
    expect(titles('component-000123')).toEqual(['component-000123']);
    expect(titles('000123')).toEqual(['component-000123']);
    expect(titles('gateway')).toContain('payment-gateway');
    expect(titles('check')).toEqual(['checkout-web']);
    expect(titles('payment')).toEqual(expect.arrayContaining(['payment-gateway', 'payment-ledger', 'checkout-web']));
    expect(titles('payment').slice(0, 2).sort()).toEqual(['payment-gateway', 'payment-ledger']);
  });

  it('needs every word, tolerates one typo per word, and drops words nothing is near', () => {
    expect(titles('payment ledger')).toEqual(['payment-ledger']);
    expect(titles('paymnet')).toEqual(expect.arrayContaining(['payment-gateway', 'payment-ledger']));
    expect(titles('acquirre')).toEqual(['payment-gateway']);
    expect(titles('ledger zzzzzzzz')).toEqual(['payment-ledger']);
    expect(titles('zzzzzzzz')).toEqual([]);
  });

  it('filters by type, kind, owner, lifecycle and tags, and lists everything for an empty term', () => {
    expect(titles('', { filters: [['tags', ['pci']]] })).toEqual(['payment-gateway']);
    expect(titles('payment', { filters: [['owner', ['group:default/team-payments']], ['lifecycle', ['production']]] })).toEqual(['payment-ledger']);
    expect(titles('', { filters: [['type', ['website']]] })).toEqual(['checkout-web']);
    expect(titles('', { types: ['techdocs'] })).toEqual([]);
    const all = index.search({ term: '', types: [], filters: [], offset: 1, limit: 2 });
    expect(all.total).toBe(5);
    expect(all.hits.map((h) => h.title)).toEqual(['component-000123', 'component-100123']);
  });

  it('replaces and removes documents', () => {
    index.upsert([entity('payment-ledger', { text: 'now about invoices' })]);
    expect(titles('invoices')).toEqual(['payment-ledger']);
    expect(titles('double')).toEqual([]);
    index.remove('software-catalog', ['component:default/payment-ledger']);
    expect(titles('ledger')).toEqual([]);
    expect(index.size()).toBe(4);
  });

  it('reads query syntax as plain words', () => {
    for (const term of ['"', 'payment"', 'NEAR(payment gateway)', 'payment OR 1', '*', 'title:payment', "'; drop table docs; --", '^payment', 'payment AND NOT x']) {
      expect(() => titles(term)).not.toThrow();
    }
    expect(titles('NEAR(payment gateway)')).toEqual(['payment-gateway']);
    expect(index.size()).toBe(5);
  });
});
