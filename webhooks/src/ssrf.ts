/**
 * Webhook URLs must not reach into the network PledgeWatch runs in: loopback, private, link-local,
 * cloud metadata, multicast and unspecified addresses are refused unless an allow-list permits them.
 * The check runs when an endpoint is registered and again at every connection (through the lookup
 * function given to the HTTP client), so a DNS name that later resolves inward is refused too.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

const FORBIDDEN_V4 = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const;
const FORBIDDEN_V6 = [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const;

export interface AddressPolicy {
  /** Addresses or CIDR blocks (e.g. "127.0.0.1", "10.20.0.0/16") that may be reached all the same. */
  allow: readonly string[];
}

export class AddressGuard {
  private readonly forbidden = new BlockList();
  private readonly allowed = new BlockList();

  constructor(policy: AddressPolicy) {
    for (const [net, bits] of FORBIDDEN_V4) this.forbidden.addSubnet(net, bits, 'ipv4');
    for (const [net, bits] of FORBIDDEN_V6) this.forbidden.addSubnet(net, bits, 'ipv6');
    for (const entry of policy.allow) {
      const [address = '', bits] = entry.split('/');
      const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (isIP(address) === 0) throw new Error(`webhook allow-list entry "${entry}" is not an address or CIDR block`);
      if (bits === undefined) this.allowed.addAddress(address, family);
      else this.allowed.addSubnet(address, Number(bits), family);
    }
  }

  /** Why this address may not be reached, or null when it may. */
  refuse(address: string): string | null {
    // An IPv4-mapped IPv6 address (::ffff:127.0.0.1) is judged as the IPv4 address it carries.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    if (mapped !== undefined) return this.refuse(mapped);
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (this.allowed.check(address, family)) return null;
    return this.forbidden.check(address, family) ? `address ${address} is internal (loopback, private, link-local or reserved)` : null;
  }

  /** Checks a URL as it would be called now: scheme, and every address its host resolves to. */
  async checkUrl(url: string): Promise<string | null> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return 'not a valid URL';
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return 'only http and https URLs are allowed';
    if (parsed.username !== '' || parsed.password !== '') return 'credentials in the URL are not allowed';
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    let addresses: string[];
    try {
      addresses = isIP(host) !== 0 ? [host] : (await lookupAll(host)).map((a) => a.address);
    } catch (err) {
      return `cannot resolve ${host}: ${(err as Error).message}`;
    }
    for (const address of addresses) {
      const reason = this.refuse(address);
      if (reason !== null) return reason;
    }
    return null;
  }

  /** A dns.lookup replacement for the HTTP client that refuses internal addresses at connect time. */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const refused = addresses.map((a) => this.refuse(a.address)).find((r) => r !== null);
      if (refused !== undefined) {
        return callback(Object.assign(new Error(`refused: ${refused}`), { code: 'EPWSSRF' }), '', 0);
      }
      if (options.all === true) return callback(null, addresses);
      const first = addresses[0] as LookupAddress;
      callback(null, first.address, first.family);
    });
  };
}

function lookupAll(host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => dnsLookup(host, { all: true }, (err, addrs) => (err ? reject(err) : resolve(addrs))));
}
