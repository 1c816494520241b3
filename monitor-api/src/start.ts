import type { App } from './app.ts';

/** Listens (port 0 picks a free port) and returns the base URL the app answers on. */
export async function startApi(app: App, where: { host: string; port: number }): Promise<{ url: string }> {
  await app.listen({ host: where.host, port: where.port });
  const address = app.server.address();
  if (address === null || typeof address === 'string') return { url: `http://${where.host}:${where.port}` };
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { url: `http://${host}:${address.port}` };
}
