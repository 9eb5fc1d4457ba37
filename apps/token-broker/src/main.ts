import 'reflect-metadata';
import { runService } from '@broker/service-runtime';
import { tokenBrokerService } from './service';

void runService(tokenBrokerService);
