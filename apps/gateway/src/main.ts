import 'reflect-metadata';
import { runService } from '@broker/service-runtime';
import { gatewayService } from './service';

void runService(gatewayService);
