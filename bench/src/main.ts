/** `npm run bench [-- NAME...]`: runs the named benchmarks (all by default), printing CONTRACT §5 lines. */
import { benchApi } from './api.ts';
import { benchDetection } from './detection.ts';
import { benchEdge } from './edge.ts';
import { benchIngest } from './ingest.ts';
import { benchInflux } from './influx.ts';
import { benchWebhook } from './webhook.ts';

const BENCHES: Record<string, () => Promise<void>> = {
  ingest: benchIngest,
  influx: benchInflux,
  edge: benchEdge,
  detection: benchDetection,
  webhook: benchWebhook,
  api: benchApi,
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(name in BENCHES));
if (unknown.length > 0) {
  process.stderr.write(`unknown bench: ${unknown.join(', ')} (known: ${Object.keys(BENCHES).join(', ')})\n`);
  process.exitCode = 2;
} else {
  for (const name of wanted.length > 0 ? wanted : Object.keys(BENCHES)) {
    await (BENCHES[name] as () => Promise<void>)();
  }
}
