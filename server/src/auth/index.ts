export * from './auth.js';
export * from './middleware.js';
