import { CONFORMANCE_QUIET_MS, incidentManagerConformance } from '../testing/incident-manager-conformance.js';
import { FakeIncidentManager } from '../testing/fake-context.js';
import { incidentHarness } from '../testing/incident-harness.js';

incidentManagerConformance('real (incidents/manager.ts, memory store)', (startMs) => {
  const h = incidentHarness({ detect: { incidents: { quietSeconds: CONFORMANCE_QUIET_MS / 1000 } }, startMs });
  return { m: h.m, setNow: (ms) => (h.clock.now = ms) };
});

incidentManagerConformance('fake (testing/fake-context.ts)', () => ({
  m: new FakeIncidentManager(CONFORMANCE_QUIET_MS),
  setNow: () => {},
}));
