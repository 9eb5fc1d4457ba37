import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import type { DynamicModule, Type } from '@nestjs/common';
import { gatewayService } from '../src/service';
import { surfaceOf } from '../src/http/surfaces';

interface CatalogueRoute {
  method: string;
  path: string;
  surface: string;
}

const catalogue = (
  JSON.parse(readFileSync(join(__dirname, '../../../e2e/fixtures/gateway-routes.json'), 'utf8')) as {
    routes: CatalogueRoute[];
  }
).routes;

/** The controllers of a module and of the dynamic modules it imports (the runtime's health probes). */
function controllersOf(module: DynamicModule): Type[] {
  const imported = (module.imports ?? []).filter(
    (m): m is DynamicModule => typeof m === 'object' && m !== null && 'module' in m,
  );
  return [...((module.controllers ?? []) as Type[]), ...imported.flatMap(controllersOf)];
}

/** Every route the gateway's controllers declare, as `METHOD /path/:param`. */
function declaredRoutes(): string[] {
  const controllers = controllersOf(
    gatewayService.module({ service: 'gateway', logLevel: 'silent' } as never),
  );
  const routes: string[] = [];
  for (const controller of controllers) {
    const prefixes = ([] as string[]).concat(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
    for (const name of Object.getOwnPropertyNames(controller.prototype)) {
      const handler = (controller.prototype as Record<string, unknown>)[name];
      if (typeof handler !== 'function' || name === 'constructor') continue;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      if (method === undefined) continue;
      for (const prefix of prefixes) {
        for (const path of ([] as string[]).concat(Reflect.getMetadata(PATH_METADATA, handler) ?? '')) {
          const full = `/${[prefix, path]
            .map((p) => p.replace(/^\/+|\/+$/g, ''))
            .filter(Boolean)
            .join('/')}`;
          routes.push(`${RequestMethod[method]} ${full}`);
        }
      }
    }
  }
  return routes.sort();
}

/** The catalogue the fuzz and header suites walk must be every route there is. */
describe('gateway route catalogue', () => {
  it('lists exactly the routes the controllers declare', () => {
    expect(catalogue.map((r) => `${r.method} ${r.path}`).sort()).toEqual(declaredRoutes());
  });

  it('gives each route the surface the gateway answers its refusals in', () => {
    for (const route of catalogue.filter((r) => r.surface !== 'health')) {
      expect({ route: route.path, surface: surfaceOf(route.method, route.path) }).toEqual({
        route: route.path,
        surface: route.surface,
      });
    }
  });
});
