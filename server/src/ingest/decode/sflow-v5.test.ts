import { SflowV5Encoder } from '../../sim/encoders/sflow-v5.js';
import { captureProtocol, decoderConformance } from '../../testing/decoder-conformance.js';

const AGENT = '10.9.8.7';

decoderConformance({
  protocol: 'sflow-v5',
  // one sample per packet at rate 1; a fixed draw keeps 1-in-N sampling reproducible
  encoder: (opts) => new SflowV5Encoder({ ...opts, agentAddress: AGENT, random: () => 0 }),
  ipv6: true,
  // sFlow names its exporter in the datagram: the agent, whatever the UDP source
  exporter: () => AGENT,
  isCapture: (e) => captureProtocol(e) === 'sflow-v5',
});
