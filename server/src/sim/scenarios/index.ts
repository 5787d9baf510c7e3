export { demoNetworkConfig, CUSTOMERS, IF, SIM_EXPORTER } from './network.js';
export { compose, simFlow, type Component, type Scenario, type ScenarioLabel } from './scenario.js';
export {
  HOSTS,
  HOSTS6,
  SCENARIOS,
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
