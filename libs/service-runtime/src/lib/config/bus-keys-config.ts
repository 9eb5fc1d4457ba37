// The bus key pair, the callees' public keys and the events keys of a service, parsed from its settings.
import type { ServiceName } from '@broker/contracts';
import {
  BusKeyError,
  parseEventPublicKeys,
  parseEventSigningKey,
  parseServicePrivateKeys,
  parseServicePublicKeys,
} from '@broker/bus-protocol';
import { BUS_CALLEES, EVENT_PUBLISHERS, EVENT_SUBSCRIBERS } from './service-topology';
import { ConfigError, ConfigRequirements, ServiceConfig } from './service-config.types';

/** The bus and events keys a service needs, parsed; a bad or missing one is a ConfigError naming it. */
export function busKeys(
  service: ServiceName,
  req: ConfigRequirements,
  e: {
    BUS_SERVICE_PRIVATE_KEY?: string;
    BUS_SERVICE_PUBLIC_KEYS?: string;
    EVENTS_SIGNING_KEY?: string;
    EVENTS_PUBLIC_KEYS?: string;
  },
): Omit<ServiceConfig['bus'], 'prefix' | 'timeoutMs'> {
  const problems: string[] = [];
  const parse = <T>(name: string, value: string | undefined, parser: (v: string) => T): T | undefined => {
    if (value === undefined) return undefined;
    try {
      return parser(value);
    } catch (err) {
      if (err instanceof BusKeyError) {
        problems.push(`${name}: ${err.message}`);
        return undefined;
      }
      throw err;
    }
  };
  const keys = req.busServer
    ? parse('BUS_SERVICE_PRIVATE_KEY', e.BUS_SERVICE_PRIVATE_KEY, parseServicePrivateKeys)
    : undefined;
  const publicKeys =
    parse('BUS_SERVICE_PUBLIC_KEYS', e.BUS_SERVICE_PUBLIC_KEYS, parseServicePublicKeys) ?? {};
  for (const callee of BUS_CALLEES[service]) {
    if (e.BUS_SERVICE_PUBLIC_KEYS !== undefined && !publicKeys[callee] && !problems.length) {
      problems.push(`BUS_SERVICE_PUBLIC_KEYS: needs the public key of ${callee} (${callee}=kid:key)`);
    }
  }
  const eventsSigningKey = EVENT_PUBLISHERS.includes(service)
    ? parse('EVENTS_SIGNING_KEY', e.EVENTS_SIGNING_KEY, parseEventSigningKey)
    : undefined;
  // The gateway subscribes only for its token cache (GATEWAY_TOKEN_CACHE=on): then the keys are given.
  const eventsPublicKeys =
    EVENT_SUBSCRIBERS.includes(service) || (service === 'gateway' && e.EVENTS_PUBLIC_KEYS !== undefined)
      ? parse('EVENTS_PUBLIC_KEYS', e.EVENTS_PUBLIC_KEYS, parseEventPublicKeys)
      : undefined;
  if (problems.length) throw new ConfigError(problems);
  return { keys, publicKeys, eventsSigningKey, eventsPublicKeys };
}
