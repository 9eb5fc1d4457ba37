import 'reflect-metadata';
import { runService } from '@broker/service-runtime';
import { providerRegistryService } from './service';

void runService(providerRegistryService);
