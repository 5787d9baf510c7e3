import { describe, expect, it } from 'vitest';
import { incidentOfRoom, incidentRoom, incidentsOfRooms, LAGGING_ROOM } from './rooms.js';

describe('live room names', () => {
  it('round-trips incident ids, including ones with colons', () => {
    for (const id of ['abc', 'inc:x', 'a:b:c', '']) expect(incidentOfRoom(incidentRoom(id))).toBe(id);
  });

  it('reads only incident rooms back as incidents', () => {
    expect(incidentOfRoom(LAGGING_ROOM)).toBeUndefined();
    expect(incidentOfRoom('Xk3-socket-id')).toBeUndefined();
    expect([...incidentsOfRooms(['Xk3-socket-id', LAGGING_ROOM, incidentRoom('a'), incidentRoom('b')])]).toEqual([
      'a',
      'b',
    ]);
  });
});
