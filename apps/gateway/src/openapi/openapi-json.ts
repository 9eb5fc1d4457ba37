import { NestFactory } from '@nestjs/core';
import { generateServiceKey } from '@broker/bus-protocol';
import { loadServiceConfig } from '@broker/service-runtime';
import { gatewayService } from '../service';
import { describeGatewayApi } from './api-docs';

/**
 * The gateway's OpenAPI document as committed in docs/openapi.json (`npm run openapi`), built from
 * the gateway's module graph in Nest's preview mode: no provider is instantiated, so nothing
 * connects to Redis and no secret is needed; the throwaway configuration never reaches the document.
 */
export async function gatewayOpenApiJson(): Promise<string> {
  const key = generateServiceKey('openapi').publicKey;
  const config = loadServiceConfig(
    'gateway',
    {
      REDIS_URL: 'redis://127.0.0.1:1',
      BUS_SERVICE_PUBLIC_KEYS: `provider-registry=${key},token-broker=${key}`,
      PUBLIC_URL: 'http://127.0.0.1:3000',
    },
    gatewayService,
  );
  const app = await NestFactory.create(gatewayService.module(config), {
    preview: true,
    logger: false,
    abortOnError: false,
  });
  try {
    return `${JSON.stringify(describeGatewayApi(app), null, 2)}\n`;
  } finally {
    await app.close();
  }
}
