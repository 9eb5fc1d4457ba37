import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { WorkerHost } from '@nestjs/bullmq';
import { QueueProcessor } from '@broker/bus';
import type { DataSource } from 'typeorm';
import { SERVICE_CONFIG, ServiceConfig, domainDataSourceToken, withTimeout } from '@broker/service-runtime';
import { TOKENS_SCHEMA } from '@broker/tokens';
import { consumedProcessors } from './queue-selection';

const CHECK_EVERY_MS = 2_000;

/**
 * A worker that lost PostgreSQL stops taking jobs until it is back: every job needs the database,
 * so one taken meanwhile would only fail and spend an attempt (or, on a queue without retries,
 * be lost to the failed set). BullMQ's workers are paused locally (other replicas keep working)
 * and resumed when `SELECT 1` answers again. Losing Redis needs nothing of this: no job can be
 * fetched then, and BullMQ reconnects by itself.
 */
@Injectable()
export class DatabaseWatch implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('DatabaseWatch');
  private timer?: NodeJS.Timeout;
  private paused = false;
  private checking?: Promise<void>;

  constructor(
    private readonly moduleRef: ModuleRef,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    @Inject(domainDataSourceToken(TOKENS_SCHEMA)) private readonly dataSource: DataSource,
  ) {}

  onApplicationBootstrap(): void {
    // A fetch already blocked in Redis when the worker pauses still returns one job: it goes back.
    for (const processor of consumedProcessors(this.config.worker.queues)) {
      const instance = this.moduleRef.get(processor, { strict: false });
      if (instance instanceof QueueProcessor) instance.holdWhile(() => this.paused);
    }
    this.timer = setInterval(
      () => void (this.checking ??= this.check().finally(() => (this.checking = undefined))),
      CHECK_EVERY_MS,
    );
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.checking;
  }

  private workers(): WorkerHost['worker'][] {
    return consumedProcessors(this.config.worker.queues).map(
      (p) => this.moduleRef.get(p, { strict: false }).worker,
    );
  }

  private async check(): Promise<void> {
    const up = await withTimeout(this.dataSource.query('SELECT 1'), 2_000).then(
      () => true,
      () => false,
    );
    if (!up && !this.paused) {
      this.paused = true;
      // doNotWaitActive: jobs already running finish or fail by themselves; no new one is fetched.
      await Promise.all(this.workers().map((w) => w.pause(true)));
      this.logger.warn('PostgreSQL unreachable: this worker stopped taking jobs until it is back');
    } else if (up && this.paused) {
      this.paused = false;
      await Promise.all(this.workers().map((w) => w.resume()));
      this.logger.log('PostgreSQL reachable again: this worker takes jobs again');
    }
  }
}
