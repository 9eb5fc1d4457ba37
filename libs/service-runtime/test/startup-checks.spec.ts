import { BUS_PATTERN_OWNERS, type ServiceName } from '@broker/contracts';
import { StartupCheckError, assertBusHandlers, ownedBusPatterns } from '../src/lib/startup-checks';

// The boot check of bus handlers against the contracts' owner map: passes when the owner registers
// every pattern it owns, fails naming the missing ones when the map and the handlers disagree.
describe('start-up check: every bus pattern has a handler at its owner', () => {
  it('each owning service is given its patterns from the owner map', () => {
    expect(ownedBusPatterns('token-broker')).toContain('authorizations.token');
    expect(ownedBusPatterns('provider-registry')).toContain('providers.get');
    expect(ownedBusPatterns('worker')).toEqual([]);
  });

  it('passes when every owned pattern has a handler (extra handlers allowed)', () => {
    const owned = ownedBusPatterns('provider-registry');
    expect(() => assertBusHandlers('provider-registry', [...owned, 'some.event'])).not.toThrow();
  });

  it('fails naming the owned pattern that has no handler', () => {
    const registered = ownedBusPatterns('token-broker').filter((p) => p !== 'authorizations.token');
    expect(() => assertBusHandlers('token-broker', registered)).toThrow(StartupCheckError);
    expect(() => assertBusHandlers('token-broker', registered)).toThrow(
      /token-broker owns bus pattern authorizations\.token .* but registers no handler for it/,
    );
  });

  it('fails when the owner map gives a pattern to a service that handles it nowhere', () => {
    // A broken map: `providers.get` moved to the token broker, whose handlers do not include it.
    const broken: Record<string, ServiceName> = { ...BUS_PATTERN_OWNERS, 'providers.get': 'token-broker' };
    const brokerHandlers = ownedBusPatterns('token-broker');
    expect(() => assertBusHandlers('token-broker', brokerHandlers, broken)).toThrow(/providers\.get/);
  });

  it('fails when a service owns patterns but runs no bus server', () => {
    const broken: Record<string, ServiceName> = { ...BUS_PATTERN_OWNERS, 'providers.get': 'gateway' };
    expect(() => assertBusHandlers('gateway', null, broken)).toThrow(
      'gateway owns bus patterns (providers.get) but runs no bus server: nothing would answer them',
    );
    expect(() => assertBusHandlers('gateway', null)).not.toThrow();
  });
});
