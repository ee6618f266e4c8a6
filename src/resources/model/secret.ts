/** Secrets: named, owned by a team, versioned; values are write-only through the API (see reveal). */
import { z } from 'zod';

/** Secret names; `claim.` is reserved for the credentials the platform generates for claims. */
export const secretName = z
  .string()
  .max(100, 'a secret name is at most 100 characters')
  .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/, 'a secret name is lower-case letters, digits, "." and "-"');

const secretData = z
  .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,99}$/, 'a key is a letter or "_" followed by letters, digits, "_", "." or "-"'), z.string().max(64 * 1024))
  .refine((data) => Object.keys(data).length >= 1 && Object.keys(data).length <= 50, 'a secret holds 1 to 50 keys');

export const CreateSecretBody = z.strictObject({
  name: secretName,
  /** The team that owns it: group:default/team-a. */
  owner: z.string().min(1).max(200),
  /** One value (read as `<name>` or `<name>/value`), or several keys (read as `<name>/<key>`). */
  value: z.string().min(1).max(64 * 1024).optional(),
  data: secretData.optional(),
});
export type CreateSecretBody = z.infer<typeof CreateSecretBody>;

export const PutSecretVersionBody = z.strictObject({
  value: z.string().min(1).max(64 * 1024).optional(),
  data: secretData.optional(),
});
export type PutSecretVersionBody = z.infer<typeof PutSecretVersionBody>;

/** A secret as every API response shows it: never the value. */
export const SecretView = z.object({
  name: z.string(),
  owner: z.string(),
  keys: z.array(z.string()),
  version: z.number(),
  /** Set for the credentials of a claim. */
  claimId: z.string().nullable(),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type SecretView = z.infer<typeof SecretView>;

export const RevealedSecretView = z.object({ name: z.string(), version: z.number(), data: z.record(z.string(), z.string()) });
export type RevealedSecretView = z.infer<typeof RevealedSecretView>;

/** `name` or `name/key`: the key defaults to `value`. */
export function parseSecretRef(ref: string): { name: string; key: string } | undefined {
  const slash = ref.indexOf('/');
  const name = slash < 0 ? ref : ref.slice(0, slash);
  const key = slash < 0 ? 'value' : ref.slice(slash + 1);
  if (!secretName.safeParse(name).success || key === '') return undefined;
  return { name, key };
}
