import 'reflect-metadata';
import { runService } from '@broker/service-runtime';
import { workerService } from './service';

void runService(workerService);
