export * from './browser.js';
export * from './demo.js';
export * from './suite.js';
