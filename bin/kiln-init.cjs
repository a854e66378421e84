// Entry of the container init (started by the builder in fresh namespaces): dist/exec/init.cjs from its code cache.
// The init writes that cache itself once it has loaded everything, before it waits for its step (it never exits).
'use strict';
const path = require('node:path');
const { runBundle } = require('./code-cache.cjs');

// The fork server runs with other V8 flags (see fork-protocol.ts), which make V8 reject the inits' cache: its own.
const cacheName = process.argv[2] === '--fork-server' ? 'fork-server' : 'init';
runBundle(path.join(__dirname, '..', 'dist', 'exec', 'init.cjs'), cacheName);
