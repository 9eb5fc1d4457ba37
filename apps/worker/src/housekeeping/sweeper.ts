/** One housekeeping concern, run as a job of the housekeeping sweep queue once per interval per cluster. */
export interface Sweeper {
  /** One pass; throws to let BullMQ retry it (a failure is never counted as done). */
  sweep(): Promise<void>;
}
