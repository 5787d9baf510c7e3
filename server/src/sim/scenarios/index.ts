export { demoNetworkConfig, CUSTOMERS, IF, SIM_EXPORTER } from './network.js';
export { compose, simFlow, type Component, type Scenario, type ScenarioLabel } from './scenario.js';
export {
  HOSTS,
  SCENARIOS,
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
export { ALL_RANGES, CDN_RANGES, EYEBALL_RANGES, HOSTING_RANGES, type OutsideRange } from './address-space.js';
