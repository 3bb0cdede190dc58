// Bundles the Agent Workspace service (the SDK's lib-esm imports bare specifiers and extension-less paths, which
// a browser cannot load as they are) into workspace/dist/: the entry, the backstop module it loads after create
// (a separate file, so its failure cannot reach the start), their shared chunk, and the client's two workers.
// Run: node workspace/build.mjs (from web/); the local stack runs it when the sources are newer than dist/.
import { build } from 'esbuild';

const web = new URL('..', import.meta.url).pathname;
const common = { bundle: true, absWorkingDir: web, format: 'esm', target: 'es2022', logLevel: 'warning', legalComments: 'linked' };
await Promise.all([
  build({ ...common, entryPoints: { service: 'workspace/src/service.js', protection: 'workspace/src/protection.js', 'signed-in': 'workspace/src/signed-in.js' },
    splitting: true, outdir: 'workspace/dist', chunkNames: 'chunk-[hash]' }),
  build({ ...common, entryPoints: { 'heartbeat-worker': 'node_modules/@ccp-backstop/client/heartbeat-worker.js',
    'tick-worker': 'node_modules/@ccp-backstop/client/tick-worker.js' }, outdir: 'workspace/dist' }),
]);
