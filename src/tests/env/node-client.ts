import type { Environment } from 'vitest/environments';

/**
 * Node, but with modules transformed as for the browser ("client"): the
 * Svelte plugin then compiles `*.svelte.ts` for the client runtime, where
 * $effect runs (inside $effect.root), instead of the server build, where it
 * is a no-op. For the 'state' test project (vite.config.ts); nothing of the
 * DOM is provided, so the state classes under test must not need it.
 */
export default {
  name: 'node-client',
  viteEnvironment: 'client',
  setup() {
    return { teardown() {} };
  },
} satisfies Environment;
