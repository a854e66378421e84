// Entry of the container init (started by the builder in fresh namespaces): dist/exec/init.cjs from its code cache.
// The init writes that cache itself once it has loaded everything, before it waits for its step (it never exits).
'use strict';
const path = require('node:path');
const { runBundle } = require('./code-cache.cjs');

runBundle(path.join(__dirname, '..', 'dist', 'exec', 'init.cjs'), 'init');
