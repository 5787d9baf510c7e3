export { createTrafficMeter, type TrafficMeterOptions } from './meter.js';
