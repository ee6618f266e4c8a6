import { describe, expect, it } from 'vitest';
import { testDialects } from '../../../test/helpers/dialects.js';
import { createTestKernel, until } from '../../../test/helpers/kernel.js';
import type { Principal } from './model.js';

const dialects = await testDialects();
const admin: Principal = { kind: 'system', name: 'test' };

describe.runIf(dialects.includes('postgres'))('token cache across replicas (postgres)', () => {
  it('refuses a token in another replica as soon as it is revoked, though that replica cached it', async () => {
    const a = await createTestKernel('postgres');
    // A second store, ledger and auth on the same database stand for another replica.
    const { createStore } = await import('../store/index.js');
    const { createLedger } = await import('../ledger/service.js');
    const { createMetrics } = await import('../metrics.js');
    const { createLogger, systemClock } = await import('../index.js');
    const { createAuth } = await import('./service.js');
    const logger = createLogger({ level: 'silent', pretty: false });
    const storeB = createStore({ databaseUrl: a.config.databaseUrl, sqliteFile: '', logger });
    const ledgerB = createLedger({ store: storeB, clock: systemClock, logger, metrics: createMetrics(async () => ({})) });
    const authB = createAuth({ store: storeB, ledger: ledgerB, clock: systemClock, sessionIdleS: 3600 });
    try {
      await storeB.listening();
      await a.auth.createUser(admin, { username: 'rae', password: 'correct horse battery', role: 'member' });
      const session = await a.auth.login({ username: 'rae', password: 'correct horse battery' }, '127.0.0.1');
      const { principal } = await a.auth.authenticateSession(session.sessionSecret);
      const { token, secret } = await a.auth.createToken(principal, { name: 'ci' });
      expect((await authB.authenticateToken(secret)).kind).toBe('user'); // now cached in B
      await a.auth.revokeToken(principal, token.id);
      await until(async () => authB.authenticateToken(secret).then(() => false, () => true), 2000, 5);
      await expect(authB.authenticateToken(secret)).rejects.toThrow(/revoked/);
    } finally {
      ledgerB.stop();
      await storeB.destroy();
      await a.close();
    }
  });
});
