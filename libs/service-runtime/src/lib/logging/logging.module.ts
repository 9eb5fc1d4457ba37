import { DynamicModule } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import type { ServiceConfig } from '../config/service-config';
import { redactSecrets, redactUrl } from './redaction';

/** Structured JSON logs (pino) with secrets redacted: headers, secret-named fields, secret query parameters. */
export function loggingModule(config: ServiceConfig): DynamicModule {
  return LoggerModule.forRoot({
    pinoHttp: {
      level: config.logLevel,
      base: { service: config.service },
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["refreshed-token"]', 'res.headers["set-cookie"]'],
        censor: '[redacted]',
      },
      formatters: { log: (obj: Record<string, unknown>) => redactSecrets(obj) },
      serializers: {
        req: (req: { id?: unknown; method?: string; url?: string; headers?: Record<string, unknown> }) => ({
          id: req.id,
          method: req.method,
          url: req.url ? redactUrl(req.url) : req.url,
          headers: req.headers ? redactSecrets(req.headers) : undefined,
        }),
        // Redirects carry codes and states in their Location (the authorization responses).
        res: (res: { statusCode?: number; headers?: Record<string, unknown> }) => {
          const headers = res.headers ? redactSecrets(res.headers) : undefined;
          if (headers && typeof headers['location'] === 'string') headers['location'] = redactUrl(headers['location']);
          return { statusCode: res.statusCode, headers };
        },
      },
      autoLogging: { ignore: (req: IncomingMessage) => (req.url ?? '').startsWith('/health') },
    },
  });
}
