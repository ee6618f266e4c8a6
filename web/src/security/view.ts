import type { FindingSeverity, FindingStatus, TrackedFinding } from './api';

export const severities: readonly FindingSeverity[] = ['critical', 'high', 'medium', 'low'];
export const statuses: readonly FindingStatus[] = ['open', 'accepted', 'fixed'];

export const severityTone: Record<FindingSeverity, 'error' | 'warning' | 'info' | 'default'> = { critical: 'error', high: 'warning', medium: 'info', low: 'default' };
export const statusTone: Record<FindingStatus, 'error' | 'success' | 'default'> = { open: 'error', accepted: 'default', fixed: 'success' };

/** Where a finding is: `qs@6.2.0` for a dependency, `src/db.ts:12` otherwise. */
export function findingLocation(f: Pick<TrackedFinding, 'package' | 'file' | 'line'>): string {
  if (f.package !== null) return `${f.package.name}@${f.package.version}`;
  return f.line !== null ? `${f.file}:${f.line}` : f.file;
}

/** `team-a` for `group:default/team-a`. */
export const teamName = (ref: string): string => ref.replace(/^group:(?:[^/]+\/)?/, '');

/** An ISO date `days` days from `now`, at the same time of day. */
export const daysFrom = (now: Date, days: number): string => new Date(now.getTime() + days * 86_400_000).toISOString();
