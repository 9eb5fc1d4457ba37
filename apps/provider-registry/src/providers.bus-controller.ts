import { Controller, Logger, UseGuards } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { BusContext, BusException } from '@broker/bus';
import { BusReply, BusRequest, MessagePatterns } from '@broker/contracts';
import { BusAuthGuard, RequireScopes } from '@broker/auth-kit';
import {
  JobEntity,
  JobsService,
  ProvidersService,
  SecureConfigsService,
  toOAuthProvider,
} from '@broker/registry';
import { ServiceEventPublisher } from '@broker/service-runtime';
import { JobDispatch } from '@broker/workflows';

const JOBS_PATH = '/api/v2/externalOAuth/jobs';

/**
 * Bus handlers of the providers and jobs resources; the org is always the verified caller's.
 * Payloads arrive checked against their contract schema (the bus server's payload pipe).
 */
@Controller()
@UseGuards(BusAuthGuard)
export class ProvidersBusController {
  private readonly logger = new Logger('Providers');

  constructor(
    private readonly providers: ProvidersService,
    private readonly jobs: JobsService,
    private readonly secrets: SecureConfigsService,
    private readonly dispatch: JobDispatch,
    private readonly events: ServiceEventPublisher,
  ) {}

  @MessagePattern(MessagePatterns.providers.list)
  @RequireScopes('providers:read')
  async list(
    @Payload() query: BusRequest<'providers.list'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'providers.list'>> {
    return { data: await this.providers.list(ctx.getPrincipal().orgId, query) };
  }

  @MessagePattern(MessagePatterns.providers.get)
  @RequireScopes('providers:read')
  get(
    @Payload() req: BusRequest<'providers.get'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'providers.get'>> {
    return this.providers.get(ctx.getPrincipal().orgId, req.id);
  }

  @MessagePattern(MessagePatterns.providers.create)
  @RequireScopes('providers:write')
  create(
    @Payload() req: BusRequest<'providers.create'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'providers.create'>> {
    return this.providers.create(ctx.getPrincipal().orgId, req);
  }

  @MessagePattern(MessagePatterns.providers.update)
  @RequireScopes('providers:write')
  async update(
    @Payload() req: BusRequest<'providers.update'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'providers.update'>> {
    const updated = await this.providers.update(ctx.getPrincipal().orgId, req.id, req.changes);
    await this.changed(updated.orgId, updated.id);
    return updated;
  }

  /** Starts (or returns the running) deletion job; the queue entry is added once the job record is committed. */
  @MessagePattern(MessagePatterns.providers.delete)
  @RequireScopes('providers:write')
  async delete(
    @Payload() req: BusRequest<'providers.delete'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'providers.delete'>> {
    const orgId = ctx.getPrincipal().orgId;
    const providerId = req.id;
    const { job } = await this.providers.requestDeletion(orgId, providerId);
    await this.changed(orgId, providerId);
    await this.enqueue(job);
    return { location: `${JOBS_PATH}/${job.id}/` };
  }

  /**
   * Internal: the provider, what the catalogue resolved and the client secret in clear, for the
   * token-broker's calls to the provider. Only tokens the broker mints for itself carry the scope;
   * the reply is sealed to the caller.
   */
  @MessagePattern(MessagePatterns.providerCredentials.get)
  @RequireScopes('providers:credentials')
  async credentials(
    @Payload() req: BusRequest<'providers.credentials'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'providers.credentials'>> {
    const orgId = ctx.getPrincipal().orgId;
    const provider = await this.providers.find(orgId, req.id);
    if (!provider || !provider.secureConfigId)
      throw new BusException('NOT_FOUND', 'OAuth provider not found.');
    const clientSecret = await this.secrets.reveal(orgId, provider.secureConfigId);
    if (clientSecret === null) throw new BusException('NOT_FOUND', 'OAuth provider not found.');
    return {
      provider: toOAuthProvider(provider),
      resolved: provider.resolved as unknown as Record<string, unknown>,
      clientSecret,
      version: provider.version,
      ...(provider.githubApp ? { githubApp: provider.githubApp } : {}),
    };
  }

  @MessagePattern(MessagePatterns.jobs.get)
  @RequireScopes('jobs:read')
  async getJob(
    @Payload() req: BusRequest<'jobs.get'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'jobs.get'>> {
    const job = await this.jobs.get(ctx.getPrincipal().orgId, req.id);
    if (!job) throw new BusException('NOT_FOUND', 'Job not found.');
    return job;
  }

  /** Org-created jobs: STATS only (deletion jobs come from DELETE, key rotation is an operator's job). */
  @MessagePattern(MessagePatterns.jobs.create)
  @RequireScopes('jobs:write')
  async createJob(
    @Payload() req: BusRequest<'jobs.create'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'jobs.create'>> {
    if (req.type !== 'STATS')
      throw new BusException('UNPROCESSABLE', 'Invalid job.', [{ name: 'type', message: 'must be STATS' }]);
    const orgId = ctx.getPrincipal().orgId;
    const job = await this.jobs.create(undefined, orgId, 'STATS');
    await this.enqueue(job);
    return { location: `${JOBS_PATH}/${job.id}/` };
  }

  /**
   * Tells the token-brokers that a provider changed (status, secret, settings), so they read it
   * again at once instead of serving from their short cache: a provider marked invalid stops
   * serving its tokens everywhere. A hint only (it carries no status): a forged one costs a re-read.
   * Delivered before the caller gets its answer (never failing the request if Redis refuses it).
   */
  private changed(orgId: string, providerId: string): Promise<void> {
    return this.events.publish({ type: 'provider.changed', orgId, providerId, at: new Date().toISOString() });
  }

  /** A queue hiccup does not fail the request: the worker's reconciler re-queues open jobs it finds idle. */
  private async enqueue(job: JobEntity): Promise<void> {
    try {
      await this.dispatch.enqueue(job);
    } catch (err) {
      this.logger.warn(
        `job ${job.id} (${job.type}) not queued yet (${(err as Error).message}); the worker reconciler will queue it`,
      );
    }
  }
}
