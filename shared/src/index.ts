export * from './incident.js';
export * from './detection.js';
export * from './live.js';
export * from './api.js';
export * from './feeds.js';
export * from './graph-frame.js';
export * from './history.js';
