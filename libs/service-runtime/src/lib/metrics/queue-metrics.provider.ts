import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { QUEUE_NAMES } from '@broker/contracts';
import { observeQueues } from './queue-metrics';

/** Exports the depth and age of every background queue registered in this app (`queueMetrics: true`). */
@Injectable()
export class QueueMetricsProvider implements OnModuleInit, OnApplicationShutdown {
  private stop?: () => void;

  constructor(private readonly modules: ModuleRef) {}

  onModuleInit(): void {
    const queues = QUEUE_NAMES.map((name) => this.modules.get<Queue>(getQueueToken(name), { strict: false }));
    this.stop = observeQueues(queues);
  }

  onApplicationShutdown(): void {
    this.stop?.();
  }
}
