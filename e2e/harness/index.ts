export * from './browser.js';
export * from './demo.js';
