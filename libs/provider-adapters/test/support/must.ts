import type { ProviderAdapter } from '../../src';

/** The value, or a thrown error when it is missing (tests' non-null assertion). */
export function must<T>(value: T | null | undefined, what = 'value'): T {
  if (value === null || value === undefined) throw new Error(`${what} is missing`);
  return value;
}

/** The device-flow methods of an adapter that has them, bound. */
export function deviceFlow(adapter: ProviderAdapter) {
  const { startDeviceAuthorization, pollDeviceToken } = adapter;
  if (!startDeviceAuthorization || !pollDeviceToken)
    throw new Error(`the ${adapter.type} adapter has no device flow`);
  return { start: startDeviceAuthorization.bind(adapter), poll: pollDeviceToken.bind(adapter) };
}
