/** Secret provider: generated credentials in Plinth's own secret store (no external server). */
import { randomBytes } from 'node:crypto';
import type { Provider, ProvisionContext } from './provider.js';

function generate(ctx: ProvisionContext): Record<string, string> {
  const keys = Array.isArray(ctx.claim.inputs.keys) ? (ctx.claim.inputs.keys as string[]) : ['value'];
  const bytes = Number(ctx.claim.inputs.bytes ?? 32);
  return Object.fromEntries(keys.map((key) => [key, randomBytes(bytes).toString('base64url')]));
}

export function createSecretProvider(exists: (name: string) => Promise<boolean>): Provider {
  return {
    name: 'secret',
    unavailable: async () => undefined,
    steps: [{ name: 'credentials', run: async (ctx) => void (await ctx.secrets.ensureClaimSecret({ name: ctx.names.secretName, ownerRef: ctx.claim.owner, claimId: ctx.claim.id }, () => generate(ctx))) }],
    async outputs(ctx) {
      const keys = Array.isArray(ctx.claim.inputs.keys) ? (ctx.claim.inputs.keys as string[]) : ['value'];
      return { secretRef: ctx.names.secretName, ...Object.fromEntries(keys.map((key) => [`${key}Ref`, `${ctx.names.secretName}/${key}`])) };
    },
    async observe(ctx) {
      return (await exists(ctx.names.secretName)) ? [] : [`secret ${ctx.names.secretName} does not exist`];
    },
    backup: async () => undefined,
    // The controller removes the claim's secret for every provider.
    destroy: async () => undefined,
    close: async () => undefined,
  };
}
