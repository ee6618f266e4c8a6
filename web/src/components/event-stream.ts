import { useEffect, useRef, useState } from 'react';
import { buildUrl } from '../app/http';

export interface StreamMessage {
  /** The SSE `event:` name. */
  type: string;
  /** The SSE `id:`; '' when the server sent none. */
  id: string;
  data: string;
}

export interface EventStreamOptions {
  /** The `event:` names to listen for (EventSource only delivers named events to named listeners). */
  eventTypes: readonly string[];
  onMessage: (message: StreamMessage) => void;
  /** An event after which the server ends the stream: the source closes instead of reconnecting. */
  closeOn?: string;
}

/**
 * The portal's one SSE hook: follows `url` while it is defined, reconnects after a drop (the browser
 * sends Last-Event-ID), closes while the tab is hidden and resumes from the last event id (`?after=`)
 * when it is shown again, so nothing is lost or repeated. Undefined `url` closes the stream; the last
 * id is kept until the url changes, so re-enabling the same stream continues where it stopped.
 */
export function useEventStream(url: string | undefined, options: EventStreamOptions): { connected: boolean } {
  const [connected, setConnected] = useState(false);
  const latest = useRef(options);
  const lastId = useRef<{ url: string | undefined; id: string }>({ url, id: '' });
  useEffect(() => {
    latest.current = options;
  });
  const typesKey = options.eventTypes.join(',');

  useEffect(() => {
    if (url === undefined) return;
    if (lastId.current.url !== url) lastId.current = { url, id: '' };
    let source: EventSource | undefined;
    let done = false;
    const open = () => {
      if (done || source !== undefined) return;
      const after = lastId.current.id;
      const next = new EventSource(after === '' ? url : buildUrl(url, { after }), { withCredentials: true });
      source = next;
      next.onopen = () => setConnected(true);
      next.onerror = () => setConnected(next.readyState === EventSource.OPEN);
      for (const type of typesKey.split(',')) {
        next.addEventListener(type, (event: MessageEvent<string>) => {
          if (event.lastEventId !== '') lastId.current = { url, id: event.lastEventId };
          latest.current.onMessage({ type, id: event.lastEventId, data: event.data });
          if (type === latest.current.closeOn) {
            done = true;
            close();
          }
        });
      }
    };
    const close = () => {
      source?.close();
      source = undefined;
      setConnected(false);
    };
    const onVisibility = () => (document.visibilityState === 'hidden' ? close() : open());
    document.addEventListener('visibilitychange', onVisibility);
    if (document.visibilityState !== 'hidden') open();
    return () => {
      done = true;
      document.removeEventListener('visibilitychange', onVisibility);
      close();
    };
  }, [url, typesKey]);

  return { connected };
}
