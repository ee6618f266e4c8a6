import { authorize, decideAccess, NotAllowedError, userRef, type Permission, type Principal, type ResourceRef } from '../kernel/index.js';

/** The ledger actor of a principal. */
export const actorOf = (principal: Principal): string => (principal.kind === 'user' ? userRef(principal.username) : `system:${principal.name}`);

/** authorize(), with the ownership refusal worded for repositories (role and scope refusals stay the kernel's). */
export function authorizeOwned(principal: Principal, permission: Permission, resource: ResourceRef & { ownerRef: string }, ownerRefusal: string): void {
  authorize(principal, permission);
  if (decideAccess(principal, permission, resource) !== undefined) throw new NotAllowedError(ownerRefusal);
}
