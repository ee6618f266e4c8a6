import type { UserView } from '../../../src/kernel/index.js';

export type Role = UserView['role'];

/** Every role with what it may do; typed by the server's role union, so a new role fails to compile here. */
export const roleOptions: Record<Role, { label: string; help: string }> = {
  'platform-admin': { label: 'Platform admin', help: 'administers users, tokens, policies and the platform' },
  member: { label: 'Member', help: 'uses the platform and changes what their teams own' },
  viewer: { label: 'Viewer', help: 'reads everything, changes nothing' },
};

export const roleList = Object.keys(roleOptions) as Role[];
