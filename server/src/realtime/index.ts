export { attachRealtime, type Realtime, type RealtimeHooks, type RealtimeOptions, type RealtimeStats } from './live.js';
