#!/usr/bin/env node
// The bin stays server/dist/cli.js (package.json, `pnpm start`, e2e, durability tests); the
// command line itself lives in main/cli.ts with the rest of the wiring.
import './main/cli.js';
