import { IpfixEncoder } from '../../sim/encoders/ipfix.js';
import { captureProtocol, decoderConformance } from '../../testing/decoder-conformance.js';

decoderConformance({
  protocol: 'ipfix',
  encoder: (opts) => new IpfixEncoder(opts),
  ipv6: true,
  exporter: (source) => source,
  isCapture: (e) => captureProtocol(e) === 'ipfix',
});
