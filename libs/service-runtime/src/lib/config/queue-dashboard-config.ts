// The gateway's queue dashboard (docs/queue-dashboard.md): off unless configured; when on, its
// session key and the operator org whose clients may use it.
import { z } from 'zod';

export const QUEUE_DASHBOARD_MODES = ['off', 'read', 'operate'] as const;

/** What the dashboard settings look like once validated (absent: the dashboard is off). */
export interface QueueDashboardConfig {
  /** `read`: every queue shown, no action possible; `operate`: actions for sessions holding `queues:operate`. */
  mode: 'read' | 'operate';
  /** Seals the session cookie (AES-256-GCM); the same on every gateway replica. */
  sessionKey: Buffer;
  /** The only org whose clients' tokens open the dashboard (queues hold every org's jobs). */
  operatorOrgId: string;
}

export const queueDashboardSettings = {
  QUEUE_DASHBOARD: z
    .enum(QUEUE_DASHBOARD_MODES, { message: `must be one of ${QUEUE_DASHBOARD_MODES.join(', ')}` })
    .default('off'),
  QUEUE_DASHBOARD_SESSION_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, {
      message: 'must be 32 random bytes, base64-encoded',
    })
    .optional(),
  OPERATOR_ORG_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, { message: 'letters, digits, _ and - only' })
    .optional(),
};

/** The dashboard's settings, or undefined when it is off; problems name their variable. */
export function queueDashboardConfig(
  e: {
    QUEUE_DASHBOARD: (typeof QUEUE_DASHBOARD_MODES)[number];
    QUEUE_DASHBOARD_SESSION_KEY?: string;
    OPERATOR_ORG_ID?: string;
    BOOTSTRAP_ORG_ID: string;
  },
  problems: string[],
): QueueDashboardConfig | undefined {
  if (e.QUEUE_DASHBOARD === 'off') return undefined;
  if (!e.QUEUE_DASHBOARD_SESSION_KEY) {
    problems.push(`QUEUE_DASHBOARD_SESSION_KEY: required when QUEUE_DASHBOARD=${e.QUEUE_DASHBOARD}`);
    return undefined;
  }
  return {
    mode: e.QUEUE_DASHBOARD,
    sessionKey: Buffer.from(e.QUEUE_DASHBOARD_SESSION_KEY, 'base64'),
    operatorOrgId: e.OPERATOR_ORG_ID ?? e.BOOTSTRAP_ORG_ID,
  };
}
