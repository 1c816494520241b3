/** OpenAPI 3.1 document built from the routes' own schemas, served at /openapi.json and /docs. */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { ERRORS, type ErrorCode } from '@pledgewatch/common';
import type { FastifyInstance } from 'fastify';
import { problemType } from './problems.ts';

/** The error table is generated from common/errors.ts, so the document cannot fall behind the code. */
function errorTable(): string {
  const rows = (Object.keys(ERRORS) as ErrorCode[]).map(
    (code) => `| \`${code}\` | ${ERRORS[code].status} | ${ERRORS[code].title} | ${problemType(code)} |`,
  );
  return ['| code | status | title | type |', '|---|---|---|---|', ...rows].join('\n');
}

const DESCRIPTION = `Live collateral monitoring for warehouse pledges: pledges, live valuation, prices, gateways, alerts.

Authenticate with \`Authorization: Bearer <api key>\`. A key belongs to one tenant (a lender) and sees only
that tenant's pledges; another tenant's pledge answers 404, as if it did not exist.

Every error is an RFC 9457 \`application/problem+json\` body with a stable \`code\`; bad input names the
fields at fault in \`errors[]\` as JSON Pointers (e.g. \`/items/0/epc\`).

## Error codes
`;

/**
 * Registered on the root instance, before the routes: swagger collects routes through an onRoute hook,
 * and its `swagger()` decorator must be visible to the ops routes.
 */
export function installOpenApi(app: FastifyInstance): void {
  void app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'PledgeWatch monitor API', version: '1', description: DESCRIPTION + errorTable() },
      tags: [
        { name: 'pledges', description: 'pledge registration and live state' },
        { name: 'prices', description: 'mark-to-market prices (global market data)' },
        { name: 'gateways', description: 'warehouse gateways and reader health' },
        { name: 'alerts', description: 'quantity loss, relocation, damage and monitoring gaps raised by the rules, with evidence' },
        { name: 'evidence', description: 'audit hash chains, signed valuation certificates and the public keys that check them' },
        { name: 'ops', description: 'health, readiness, metrics' },
      ],
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'pw_… API key' } } },
    },
  });
  void app.register(swaggerUi, { routePrefix: '/docs' });
}
