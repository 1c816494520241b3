/** `npm run build:edge`: writes dist/pledgewatch-edge.mjs, the edge agent for gateways. */
import { fileURLToPath } from 'node:url';
import { bundleEdge, GATEWAY_NODE_FLAGS } from '../edge-agent/src/bundle.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const outfile = `${root}dist/pledgewatch-edge.mjs`;
await bundleEdge(`${root}edge-agent/src/main.ts`, outfile);
process.stdout.write(`built ${outfile}\nrun: node ${GATEWAY_NODE_FLAGS.join(' ')} ${outfile} --config /etc/pledgewatch/edge.json\n`);
