import { SCENARIOS as LIBRARY_SCENARIOS, type ScenarioFactory } from './library.js';
import { SHAPE_SCENARIOS } from './shapes.js';
export { demoNetworkConfig, CUSTOMERS, IF, SIM_EXPORTER } from './network.js';
export { compose, simFlow, type Component, type Scenario, type ScenarioLabel } from './scenario.js';
export {
  HOSTS,
  HOSTS6,
  background6,
  allowedMail,
  amplification,
  background,
  backupJob,
  cdnFill,
  demoScenario,
  fanIn,
  flashCrowd,
  mixedScenario,
  participation,
  quicStreaming,
  scanner,
  spamBots,
  volumetric,
  type ScenarioFactory,
} from './library.js';
export {
  REFLECTION_VECTORS,
  SHAPE_HOSTS,
  SHAPE_SCENARIOS,
  customerResolver,
  flashCrowdPackets,
  gameServer,
  ntpServer,
  outboundFlood,
  reflection,
  shapelessFlood,
  synFlood,
  tcpReflection,
  vpnConcentrator,
} from './shapes.js';

/**
 * Every labelled scenario: the library's (one per kind and look-alike, IPv6, the mixed demo)
 * and the shapes (reflection on any port, TCP reflection, shapeless and SYN floods, slow
 * outbound floods, and the benign services that look like them). Each label says the kind it
 * must raise, or null for traffic that must raise nothing.
 */
export const SCENARIOS: Record<string, ScenarioFactory> = { ...LIBRARY_SCENARIOS, ...SHAPE_SCENARIOS };
export {
  ALL_RANGES,
  ALL_RANGES_V6,
  CDN_RANGES,
  EYEBALL_RANGES,
  EYEBALL_RANGES_V6,
  HOSTING_RANGES,
  HOSTING_RANGES_V6,
  rangeOf,
  type OutsideRange,
} from './address-space.js';
