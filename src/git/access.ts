import { authorize, decideAccess, NotAllowedError, type Permission, type Principal, type ResourceRef } from '../kernel/index.js';

/** authorize(), with the ownership refusal worded for repositories (role and scope refusals stay the kernel's). */
export function authorizeOwned(principal: Principal, permission: Permission, resource: ResourceRef & { ownerRef: string }, ownerRefusal: string): void {
  authorize(principal, permission);
  if (decideAccess(principal, permission, resource) !== undefined) throw new NotAllowedError(ownerRefusal);
}
