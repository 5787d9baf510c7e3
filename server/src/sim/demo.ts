import { Config, parseConfig } from '../config/config.js';
import { demoNetworkConfig } from './scenarios/index.js';

export interface DemoOptions {
  host: string;
  port: number;
  /** UDP port of the NetFlow collector the simulator feeds; 0 = a free one. */
  netflowPort: number;
  ipfixPort: number;
  sflowPort: number;
  dataDir: string;
}

/**
 * The embedded demo config: the simulator's site (customers, links) and collectors on
 * loopback only, so `pnpm start` needs no file and exposes nothing beyond this machine.
 */
export function demoConfig(o: DemoOptions): Config {
  return parseConfig(
    {
      http: { host: o.host, port: o.port },
      collectors: {
        netflow: { host: '127.0.0.1', port: o.netflowPort },
        ipfix: { host: '127.0.0.1', port: o.ipfixPort },
        sflow: { host: '127.0.0.1', port: o.sflowPort },
      },
      network: demoNetworkConfig,
      storage: { path: o.dataDir, retention_days: 90 },
    },
    'demo config',
  );
}
