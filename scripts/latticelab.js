#!/usr/bin/env node
// Runs the TypeScript CLI directly through tsx, so a fresh clone needs no build step.
import { register as registerHooks } from 'node:module';
import { register } from 'tsx/esm/api';

register();
// Registered after tsx so it runs first: `?raw` imports (WGSL shaders) load as text.
registerHooks('./raw-loader.mjs', import.meta.url);
// Output piped into a reader that stops early (`| head`) closes the pipe: that is not an error, and Node would
// otherwise report the unhandled EPIPE with a stack trace.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
