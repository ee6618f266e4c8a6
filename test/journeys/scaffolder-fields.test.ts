import { makeValidator } from '@backstage/catalog-model';
import { describe, expect, it } from 'vitest';
import { ownerProblem, repositoryNameProblem } from '../../src/git/model/names.js';
import { parsePlinthRepoUrl } from '../../src/scaffolder/actions/publish.js';
import { renderValue } from '../../src/scaffolder/expressions.js';
import { validateValues } from '../../src/scaffolder/parameters.js';
import { extractUiSchema, nextPage, pageOfField, reviewRows, submittedValues, toFormPages, visibleProperties } from '../../web/src/scaffolder/form-schema.js';
import {
  entityTagProblem,
  myGroupsFilter,
  ownedEntityFilter,
  ownersFromOwnershipRefs,
  parseRepoPickerUrl,
  PLINTH_GIT_HOST,
  repoNameProblem,
  repoOwnerProblem,
  repoUrlPickerOptions,
  repoUrlProblem,
  serializeRepoPickerUrl,
  toFilterParams,
} from '../../web/src/scaffolder/picker-options.js';

// The logic of the portal's scaffolder fields (issue #4), without a browser: RepoUrlPicker values as the
// server's parseRepoUrl filter and publish:plinth read them, the owners and filters the pickers offer,
// and conditional form parts (dependencies, if/then/else) as the form shows and submits them.

describe('RepoUrlPicker values', () => {
  it('serializes as Backstage does, and the server reads back what the picker wrote', () => {
    const value = serializeRepoPickerUrl({ host: PLINTH_GIT_HOST, owner: 'team-a', repo: 'orders.api' });
    expect(value).toBe('plinth?owner=team-a&repo=orders.api');
    expect(parseRepoPickerUrl(value)).toEqual({ host: 'plinth', owner: 'team-a', repo: 'orders.api' });
    expect(renderValue('${{ parameters.repoUrl | parseRepoUrl }}', { parameters: { repoUrl: value } })).toEqual({ host: 'plinth', owner: 'team-a', repo: 'orders.api' });
    expect(renderValue('${{ parameters.repoUrl | projectSlug }}', { parameters: { repoUrl: value } })).toBe('team-a/orders.api');
    expect(parsePlinthRepoUrl(value!)).toEqual({ owner: 'team-a', name: 'orders.api' });
  });

  it('has no value without a host, and reads what it cannot parse as empty parts', () => {
    expect(serializeRepoPickerUrl({ host: '', owner: 'team-a', repo: 'x' })).toBeUndefined();
    expect(serializeRepoPickerUrl({ host: 'plinth', owner: '', repo: '' })).toBe('plinth?');
    expect(parseRepoPickerUrl(undefined)).toEqual({ host: '', owner: '', repo: '' });
    expect(parseRepoPickerUrl(42)).toEqual({ host: '', owner: '', repo: '' });
    expect(parseRepoPickerUrl('github.com?organization=acme&repo=x')).toEqual({ host: 'github.com', owner: 'acme', repo: 'x' });
  });

  it('reads ui:options with Plinth’s hosted git as the default and only host', () => {
    expect(repoUrlPickerOptions({})).toEqual({ allowedHosts: ['plinth'], allowedOwners: [], allowedRepos: [] });
    expect(repoUrlPickerOptions({ allowedHosts: ['plinth', 'github.com'], allowedOwners: ['team-a', 7], allowedOrganizations: ['team-b'], allowedRepos: ['svc'] })).toEqual({
      allowedHosts: ['plinth', 'github.com'],
      allowedOwners: ['team-a', 'team-b'],
      allowedRepos: ['svc'],
    });
  });

  it('offers the owners a user can push to: their teams, then their username', () => {
    expect(ownersFromOwnershipRefs(['user:default/alice', 'group:default/team-b', 'group:default/team-a', 'group:other/elsewhere'])).toEqual(['team-a', 'team-b', 'alice']);
    expect(ownersFromOwnershipRefs([])).toEqual([]);
  });

  it('says what is wrong before submitting: incomplete, not allowed, or a name the hosted git refuses', () => {
    const options = repoUrlPickerOptions({});
    expect(repoUrlProblem(undefined, options)).toBeUndefined();
    expect(repoUrlProblem('plinth?owner=team-a&repo=orders', options)).toBeUndefined();
    expect(repoUrlProblem('plinth?owner=team-a', options)).toBe('choose an owner and a repository name');
    expect(repoUrlProblem('plinth?repo=x', options)).toBe('choose an owner and a repository name');
    expect(repoUrlProblem('github.com?owner=team-a&repo=orders', options)).toBe('host "github.com" is not one of plinth');
    expect(repoUrlProblem('plinth?owner=team-c&repo=orders', repoUrlPickerOptions({ allowedOwners: ['team-a', 'team-b'] }))).toBe('owner "team-c" is not one of team-a, team-b');
    expect(repoUrlProblem('plinth?owner=team-a&repo=other', repoUrlPickerOptions({ allowedRepos: ['svc'] }))).toBe('repository "other" is not one of svc');
    expect(repoUrlProblem('plinth?owner=team-a&repo=Orders_API', options)).toMatch(/^"Orders_API" is not a repository name/);
    expect(repoUrlProblem('plinth?owner=team-a&repo=svc.git', options)).toMatch(/must not end with "\.git"/);
  });

  it('names repositories and owners exactly as the hosted git does', () => {
    const names = ['svc', 'a', 'orders-api', 'my.svc', 'x_y', '0day', 'Orders', '-svc', '.hidden', 'a..b', 'svc.git', 'a/b', 'a b', '', 'é', 'x'.repeat(63), 'x'.repeat(64), 'x'.repeat(100), 'x'.repeat(101)];
    for (const name of names) {
      expect(repoNameProblem(name) === undefined, `repository ${JSON.stringify(name)}`).toBe(repositoryNameProblem(name) === undefined);
      expect(repoOwnerProblem(name) === undefined, `owner ${JSON.stringify(name)}`).toBe(ownerProblem(name) === undefined);
    }
  });
});

describe('OwnedEntityPicker filter', () => {
  const refs = ['user:default/alice', 'group:default/team-a'];

  it('narrows each catalogFilter to what the user’s refs own, as Backstage does', () => {
    expect(ownedEntityFilter({}, refs)).toEqual([{ 'relations.ownedBy': refs }]);
    expect(ownedEntityFilter({ catalogFilter: { kind: 'System' } }, refs)).toEqual([{ kind: 'System', 'relations.ownedBy': refs }]);
    expect(ownedEntityFilter({ catalogFilter: [{ kind: 'System' }, { kind: 'Component', 'spec.type': 'service' }] }, refs)).toEqual([
      { kind: 'System', 'relations.ownedBy': refs },
      { kind: 'Component', 'spec.type': 'service', 'relations.ownedBy': refs },
    ]);
    // The older allowedKinds sets the kinds of every filter.
    expect(ownedEntityFilter({ allowedKinds: ['Component', 'API'] }, refs)).toEqual([{ kind: ['Component', 'API'], 'relations.ownedBy': refs }]);
  });

  it('is sent as filter= values whose ownedBy conditions are ORed and ANDed with the rest', () => {
    expect(toFilterParams(ownedEntityFilter({ catalogFilter: { kind: 'System' } }, refs))).toEqual(['kind=System,relations.ownedBy=user:default/alice,relations.ownedBy=group:default/team-a']);
  });

  it('matches nothing rather than everything when the user owns through no ref', () => {
    const [filter] = ownedEntityFilter({}, []);
    expect(filter!['relations.ownedBy']).toHaveLength(1);
    expect(toFilterParams([filter])[0]).toContain('relations.ownedBy=');
  });
});

describe('MyGroupsPicker and EntityTagsPicker', () => {
  it('asks the catalog for the groups that have the user as a member', () => {
    expect(toFilterParams(myGroupsFilter('user:default/alice'))).toEqual(['kind=Group,relations.hasMember=user:default/alice']);
  });

  it('accepts tags as the catalog does (@backstage/catalog-model isValidTag)', () => {
    const catalog = makeValidator();
    for (const tag of ['java', 'c++', 'c#', 'k8s:prod', 'ledger-v2', 'a'.repeat(63)]) expect(entityTagProblem(tag), tag).toBeUndefined();
    for (const tag of ['', 'Java', 'two words', 'a--b', '-a', 'a-', 'a_b', 'a'.repeat(64)]) expect(entityTagProblem(tag), tag).toMatch(/is not a tag/);
    for (const tag of ['java', 'c++', 'x:y', 'ledger-v2', 'a'.repeat(63), '', 'Java', 'two words', 'a--b', '-a', 'a_b', 'a'.repeat(64), 'ü']) {
      expect(entityTagProblem(tag) === undefined, tag).toBe(catalog.isValidTag(tag));
    }
  });
});

describe('conditional form parts', () => {
  const steps = [
    {
      title: 'Component',
      schema: {
        required: ['name', 'lifecycle'],
        properties: { name: { type: 'string' }, lifecycle: { type: 'string', enum: ['production', 'experimental'] } },
        dependencies: {
          lifecycle: {
            oneOf: [
              { properties: { lifecycle: { const: 'production' } } },
              { properties: { lifecycle: { const: 'experimental' }, expiry: { type: 'string', title: 'Review by', 'ui:help': 'When to decide its future' } }, required: ['expiry'] },
            ],
          },
        },
      },
    },
    {
      title: 'Operations',
      schema: {
        properties: { repoUrl: { type: 'string', title: 'Repository', 'ui:field': 'RepoUrlPicker' } },
        if: { properties: { lifecycle: { const: 'production' } }, required: ['lifecycle'] },
        then: { properties: { oncall: { type: 'string', title: 'On-call rotation', 'ui:placeholder': 'sre-primary' } }, required: ['oncall'] },
        else: { properties: { sandbox: { type: 'boolean', title: 'Sandbox only', 'ui:widget': 'radio' } } },
      },
    },
  ];
  const pages = toFormPages(steps);

  it('moves the hints of dependencies and then/else branches into the page’s uiSchema', () => {
    expect(pages[0]!.uiSchema).toMatchObject({ expiry: { 'ui:help': 'When to decide its future' } });
    expect(pages[1]!.uiSchema).toMatchObject({ repoUrl: { 'ui:field': 'RepoUrlPicker' }, oncall: { 'ui:placeholder': 'sre-primary' }, sandbox: { 'ui:widget': 'radio' } });
    expect(JSON.stringify(pages.map((p) => p.schema))).not.toContain('ui:');
    expect(extractUiSchema({ if: { properties: { a: { const: 1, 'ui:widget': 'hidden' } } } }).schema).toEqual({ if: { properties: { a: { const: 1 } } } });
  });

  it('shows the fields of the branch the answers chose, on this page and on later pages', () => {
    expect(Object.keys(visibleProperties(pages[0]!, { lifecycle: 'experimental' }))).toEqual(['name', 'lifecycle', 'expiry']);
    expect(Object.keys(visibleProperties(pages[0]!, { lifecycle: 'production' }))).toEqual(['name', 'lifecycle']);
    expect(Object.keys(visibleProperties(pages[1]!, { lifecycle: 'production' }))).toEqual(['repoUrl', 'oncall']);
    expect(Object.keys(visibleProperties(pages[1]!, { lifecycle: 'experimental' }))).toEqual(['repoUrl', 'sandbox']);
  });

  it('reviews and submits only what is shown: a value left in a branch the user switched away from is dropped', () => {
    // The user chose experimental, typed an expiry, then switched to production.
    const values = { name: 'svc', lifecycle: 'production', expiry: '2027-01-31', repoUrl: 'plinth?owner=team-a&repo=svc', oncall: 'sre-primary' };
    expect(reviewRows(pages, values).map((r) => [r.page, r.label, r.value])).toEqual([
      [0, 'name', 'svc'],
      [0, 'lifecycle', 'production'],
      [1, 'Repository', 'plinth?owner=team-a&repo=svc'],
      [1, 'On-call rotation', 'sre-primary'],
    ]);
    const submitted = submittedValues(pages, values);
    expect(submitted).toEqual({ name: 'svc', lifecycle: 'production', repoUrl: 'plinth?owner=team-a&repo=svc', oncall: 'sre-primary' });
    // What the form submits is what the server accepts, and the server asks for what the form shows.
    expect(validateValues(steps.map((s) => s.schema), submitted)).toEqual([]);
    expect(validateValues(steps.map((s) => s.schema), { ...submitted, oncall: undefined })).toEqual([{ field: 'oncall', message: 'is required' }]);
  });

  it('sends a server error on a conditional field back to the page that shows it', () => {
    expect(pageOfField(pages, 'oncall', { lifecycle: 'production' })).toBe(1);
    expect(pageOfField(pages, 'expiry', { lifecycle: 'experimental' })).toBe(0);
    expect(pageOfField(pages, 'expiry', { lifecycle: 'production' })).toBe(-1);
  });

  it('skips pages whose `when` does not hold: navigation, review and submitted values', () => {
    const withWhen = toFormPages([...steps, { title: 'Sandbox', schema: { when: "${{ parameters.lifecycle === 'experimental' }}", properties: { sandbox: { type: 'string', title: 'Sandbox' } } } }]);
    expect(withWhen[2]!.when).toBe("${{ parameters.lifecycle === 'experimental' }}");
    expect(withWhen[2]!.schema).not.toHaveProperty('when');
    const hidden = [true, true, false];
    expect(nextPage(3, 1, 1, hidden)).toBe(3);
    expect(nextPage(3, 1, 1, [true, true, true])).toBe(2);
    expect(nextPage(3, 3, -1, hidden)).toBe(1);
    expect(nextPage(3, 0, -1, hidden)).toBe(0);
    expect(nextPage(3, 0, 1, [true, false, false])).toBe(3);
    // Unknown (not yet asked) counts as shown.
    expect(nextPage(3, 1, 1, [])).toBe(2);
    const values = { name: 'svc', lifecycle: 'production', oncall: 'sre', sandbox: 'left over' };
    expect(reviewRows(withWhen, values, hidden).map((r) => r.field)).toEqual(['name', 'lifecycle', 'repoUrl', 'oncall']);
    expect(submittedValues(withWhen, values, hidden)).toEqual({ name: 'svc', lifecycle: 'production', oncall: 'sre' });
    expect(pageOfField(withWhen, 'sandbox', values, hidden)).toBe(-1);
    expect(pageOfField(withWhen, 'sandbox', values, [true, true, true])).toBe(2);
  });
});
