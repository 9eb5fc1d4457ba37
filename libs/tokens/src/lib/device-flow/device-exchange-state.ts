import type { DeviceExchangeResult } from '@broker/contracts';
import { DeviceRow } from './device-authorization-records';

/** Where a device authorization stands, as the user's client is told (RFC 8628 §3.5 error codes). */
export function exchangeState(row: DeviceRow): DeviceExchangeResult {
  switch (row.status) {
    case 'authorized':
      return { state: 'authorized', detail: 'The account is linked.' };
    case 'denied':
      return { state: 'access_denied', detail: 'The user refused the authorization at the provider.' };
    case 'expired':
      return {
        state: 'expired_token',
        detail: 'The device code expired before the user approved it: start again.',
      };
    case 'failed':
      return {
        state: 'failed',
        detail: `The device authorization failed: ${row.error ?? 'unknown error'}. Start again.`,
      };
    default:
      if (row.expires_at.getTime() <= Date.now())
        return {
          state: 'expired_token',
          detail: 'The device code expired before the user approved it: start again.',
        };
      if (row.last_poll_result === 'slow_down')
        return {
          state: 'slow_down',
          detail: `The provider asked to poll less often; polling every ${row.interval_seconds} s.`,
        };
      return {
        state: 'authorization_pending',
        detail: `Waiting for the user to enter the code at the provider; try again in ${row.interval_seconds} s.`,
      };
  }
}
