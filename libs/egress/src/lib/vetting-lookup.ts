import { promises as dns, LookupAddress, LookupOptions } from 'node:dns';
import { forbiddenAddressReason } from './ip-address';
import { EgressDeniedError, type EgressPolicy } from './policy';

/** One DNS answer. */
export interface ResolvedAddress {
  address: string;
  family: number;
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * The `lookup` given to every socket the guarded agent opens: resolves once, refuses the connection
 * when ANY answer is a refused address, and hands exactly the vetted answers to the socket, so the
 * address connected to is the address checked (no second resolution, no DNS rebinding window).
 */
export function vettingLookup(
  policy: EgressPolicy,
  resolve: (hostname: string) => Promise<ResolvedAddress[]>,
) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    const vet = (answers: ResolvedAddress[]): ResolvedAddress[] => {
      if (answers.length === 0)
        throw Object.assign(new Error(`no addresses for ${hostname}`), { code: 'ENOTFOUND' });
      for (const a of answers) {
        const reason = forbiddenAddressReason(a.address, policy);
        if (reason)
          throw new EgressDeniedError(
            `${hostname} resolves to ${a.address}: ${reason}`,
            `https://${hostname}/`,
          );
      }
      const wanted =
        options.family === 4 || options.family === 6
          ? answers.filter((a) => a.family === options.family)
          : answers;
      if (wanted.length === 0)
        throw Object.assign(new Error(`no IPv${options.family} address for ${hostname}`), {
          code: 'ENOTFOUND',
        });
      return wanted.map((a) => ({ address: a.address, family: a.family }));
    };
    resolve(hostname)
      .then(vet)
      .then(
        (list) => (options.all ? callback(null, list) : callback(null, list[0].address, list[0].family)),
        (err: NodeJS.ErrnoException) => callback(err, ''),
      );
  };
}

export async function systemLookup(hostname: string): Promise<ResolvedAddress[]> {
  return dns.lookup(hostname, { all: true, verbatim: true });
}
