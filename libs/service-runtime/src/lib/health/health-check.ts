/** Injection token of the list of readiness checks. */
export const HEALTH_CHECKS = Symbol('HEALTH_CHECKS');

/** One dependency the service needs to serve traffic. */
export interface HealthCheck {
  name: string;
  check(): Promise<unknown>;
}
