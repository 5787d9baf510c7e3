import { NetflowV5Encoder } from '../../sim/encoders/netflow-v5.js';
import { captureProtocol, decoderConformance } from '../../testing/decoder-conformance.js';

decoderConformance({
  protocol: 'netflow-v5',
  encoder: (opts) => new NetflowV5Encoder(opts),
  ipv6: false,
  exporter: (source) => source,
  isCapture: (e) => captureProtocol(e) === 'netflow-v5',
});
