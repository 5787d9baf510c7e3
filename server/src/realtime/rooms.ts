/**
 * socket.io room names on /live, typed rather than spliced: one room per subscribed incident
 * (its `incident:series` and `incident:graph` go there) and the `lagging` room of sockets whose
 * deltas are skipped (backpressure.ts).
 */
export type IncidentRoom = `inc:${string}`;
export type LaggingRoom = 'lagging';
export type LiveRoom = IncidentRoom | LaggingRoom;

export const LAGGING_ROOM: LaggingRoom = 'lagging';

const INCIDENT_PREFIX = 'inc:';

export function incidentRoom(id: string): IncidentRoom {
  return `inc:${id}`;
}

/** The incident a room is for, or undefined for any other room (a socket's own, `lagging`). */
export function incidentOfRoom(room: string): string | undefined {
  return room.startsWith(INCIDENT_PREFIX) ? room.slice(INCIDENT_PREFIX.length) : undefined;
}

/** The incidents among a socket's rooms (what connection state recovery restored). */
export function incidentsOfRooms(rooms: Iterable<string>): Set<string> {
  const ids = new Set<string>();
  for (const r of rooms) {
    const id = incidentOfRoom(r);
    if (id !== undefined) ids.add(id);
  }
  return ids;
}
