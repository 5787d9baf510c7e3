export { attachRealtime, type Realtime, type RealtimeOptions, type RealtimeStats } from './live.js';
