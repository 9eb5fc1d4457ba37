import { Processor } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { JobHandlers, QueueProcessor, processorOptions } from '@broker/bus';
import { KeyRotationWorkflow } from '@broker/workflows';

/** The `key-rotation` queue's consumer: a checked ROTATE_KEYS payload goes to the rotation workflow (`libs/workflows`). */
@Injectable()
@Processor('key-rotation', processorOptions('key-rotation'))
export class KeyRotationProcessor extends QueueProcessor<'key-rotation'> {
  protected readonly queue = 'key-rotation' as const;
  protected readonly handlers: JobHandlers<'key-rotation'> = {
    ROTATE_KEYS: (payload) => this.rotation.run(payload),
  };

  constructor(private readonly rotation: KeyRotationWorkflow) {
    super();
  }
}
