/**
 * `PW_INFLUX_URL`: http(s)://[user:password@]host[:port][/base/path]/database[?rp=policy].
 * The last path segment names the database; anything before it is a reverse proxy's prefix.
 * InfluxDB 2.x/3.x through their v1-compatible API: any user name, the API token as the password.
 */
import { PwError, redactUrl } from '@pledgewatch/common';

export interface InfluxTarget {
  protocol: 'http' | 'https';
  host: string;
  port: number;
  /** Prefix before the API paths ('' when InfluxDB is at the root). */
  basePath: string;
  username?: string;
  password?: string;
  database: string;
  retentionPolicy?: string;
}

const problem = (url: string, reason: string) => new PwError('VALIDATION', `InfluxDB URL ${redactUrl(url)}: ${reason}`);

export function parseInfluxUrl(url: string): InfluxTarget {
  if (!URL.canParse(url)) throw problem(url, 'not a URL');
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw problem(url, `protocol must be http or https, not ${u.protocol}`);
  const segments = u.pathname.split('/').filter((s) => s !== '');
  const last = segments.pop();
  if (last === undefined) throw problem(url, 'no database: put it in the path, e.g. http://host:8086/pledgewatch');
  const database = decodeURIComponent(last);
  for (const key of u.searchParams.keys()) {
    if (key !== 'rp') throw problem(url, `unknown query parameter "${key}" (known: rp)`);
  }
  const rp = u.searchParams.get('rp');
  const protocol = u.protocol === 'https:' ? 'https' : 'http';
  return {
    protocol,
    // URL keeps IPv6 literals bracketed; http.request wants them bare.
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: u.port === '' ? (protocol === 'https' ? 443 : 8086) : Number(u.port),
    basePath: segments.length === 0 ? '' : `/${segments.join('/')}`,
    ...(u.username === '' ? {} : { username: decodeURIComponent(u.username) }),
    ...(u.password === '' ? {} : { password: decodeURIComponent(u.password) }),
    database,
    ...(rp === null || rp === '' ? {} : { retentionPolicy: rp }),
  };
}
