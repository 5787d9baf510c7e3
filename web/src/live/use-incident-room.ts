import {
  decodeGraphFrame,
  IncidentSeries,
  LiveEvents,
  SubscribeAck,
  type DecodedGraph,
  type TimelinePoint,
} from '@downstream/shared';
import { useEffect, useState } from 'react';
import { connectLive } from './connection.js';

const MAX_POINTS = 5000;

/** Merges points by timestamp: works whether the server sends whole series or increments. */
export function mergeSeries(prev: readonly TimelinePoint[], next: readonly TimelinePoint[]): TimelinePoint[] {
  const byT = new Map<string, TimelinePoint>();
  for (const p of prev) byT.set(p.t, p);
  for (const p of next) byT.set(p.t, p);
  const out = [...byT.values()].sort((a, b) => Date.parse(a.t) - Date.parse(b.t));
  return out.length > MAX_POINTS ? out.slice(out.length - MAX_POINTS) : out;
}

export interface IncidentRoom {
  series?: TimelinePoint[];
  graph?: DecodedGraph;
  /** Why the subscription failed, if it did. */
  error?: string;
}

/**
 * Joins the incident's socket room for as long as the component lives: live timeline points
 * and binary graph frames. Re-subscribes after every reconnect (rooms do not survive one).
 */
export function useIncidentRoom(id: string, initialSeries?: readonly TimelinePoint[]): IncidentRoom {
  const [room, setRoom] = useState<IncidentRoom>({});

  useEffect(() => {
    if (initialSeries?.length) setRoom((r) => ({ ...r, series: mergeSeries(r.series ?? [], initialSeries) }));
  }, [initialSeries]);

  useEffect(() => {
    const socket = connectLive();
    let seq = -1;
    const subscribe = () =>
      socket.emit(LiveEvents.subscribe, { incident: id }, (ack: unknown) => {
        const parsed = SubscribeAck.safeParse(ack);
        if (parsed.success && !parsed.data.ok)
          setRoom((r) => ({ ...r, error: parsed.data.ok ? undefined : parsed.data.error }));
      });
    const onSeries = (payload: unknown) => {
      const parsed = IncidentSeries.safeParse(payload);
      if (!parsed.success || parsed.data.id !== id) return;
      setRoom((r) => ({ ...r, series: mergeSeries(r.series ?? [], parsed.data.points) }));
    };
    const onGraph = (payload: unknown) => {
      try {
        const g = decodeGraphFrame(payload);
        if (g.id !== id || g.seq < seq) return;
        seq = g.seq;
        setRoom((r) => ({ ...r, graph: g }));
      } catch (e) {
        console.warn('downstream: ignored malformed incident:graph', (e as Error).message);
      }
    };
    socket.on(LiveEvents.series, onSeries);
    socket.on(LiveEvents.graph, onGraph);
    socket.on('connect', subscribe);
    if (socket.connected) subscribe();
    return () => {
      socket.off(LiveEvents.series, onSeries);
      socket.off(LiveEvents.graph, onGraph);
      socket.off('connect', subscribe);
      socket.emit(LiveEvents.unsubscribe, { incident: id });
    };
  }, [id]);

  return room;
}
