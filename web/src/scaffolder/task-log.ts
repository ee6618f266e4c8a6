import type { TaskEvent } from './api';

/** The log lines the task page has read from the event stream, by step. */
export interface TaskLog {
  lastId: number;
  /** Lines by step id; lines of no step (task-level messages) under ''. */
  lines: Record<string, string[]>;
}

export const emptyTaskLog: TaskLog = { lastId: 0, lines: {} };

/** Parses one SSE message's data as a TaskEvent; undefined for anything else. */
export function parseTaskEvent(data: string): TaskEvent | undefined {
  try {
    const value: unknown = JSON.parse(data);
    if (typeof value !== 'object' || value === null) return undefined;
    const event = value as Partial<TaskEvent>;
    if (typeof event.id !== 'number' || typeof event.type !== 'string' || typeof event.createdAt !== 'string' || typeof event.body !== 'object' || event.body === null) return undefined;
    return event as TaskEvent;
  } catch {
    return undefined;
  }
}

/** Adds one event's line; an event already read (a replay after reconnecting) changes nothing. */
export function applyTaskEvent(log: TaskLog, event: TaskEvent): TaskLog {
  if (event.id <= log.lastId) return log;
  const stepId = typeof event.body.stepId === 'string' ? event.body.stepId : '';
  const message = typeof event.body.message === 'string' ? event.body.message : JSON.stringify(event.body);
  const time = event.createdAt.slice(11, 19);
  return { lastId: event.id, lines: { ...log.lines, [stepId]: [...(log.lines[stepId] ?? []), `${time} ${message}`] } };
}
