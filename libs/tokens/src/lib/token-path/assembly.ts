import type { DataSource } from 'typeorm';
import type { EnvelopeCipher } from '@broker/crypto';
import type { EventSink, ProviderAccess } from '../ports';
import { AuthorizationJournal } from './authorization-journal';
import { CredentialRepository } from './credential-repository';
import { HotTokens } from './hot-tokens';
import { LeasedRefresh } from './leased-refresh';
import type { TokenPathFaults, TokenPathOptions } from './options';
import { RefreshCandidates } from './refresh-candidates';
import { RefreshFlight } from './refresh-flight';
import { ServeableTokens } from './serveable';

/** The rooms the token path's orchestration calls into. */
export interface TokenPathParts {
  hot: HotTokens;
  credentials: CredentialRepository;
  serveable: ServeableTokens;
  candidates: RefreshCandidates;
  flight: RefreshFlight;
}

/** Builds the token path's parts over one DataSource, cipher, provider port and event sink. */
export function assembleTokenPath(deps: {
  dataSource: DataSource;
  cipher: EnvelopeCipher;
  providers: ProviderAccess;
  fetchImpl: typeof fetch;
  publish: EventSink;
  options: TokenPathOptions;
  faults?: TokenPathFaults;
}): TokenPathParts {
  const { options } = deps;
  const hot = new HotTokens(options.memoryTtlMs, options.minimumServedSeconds);
  const credentials = new CredentialRepository(deps.dataSource, deps.cipher, options.leaseMs);
  const serveable = new ServeableTokens(credentials, options.minimumServedSeconds);
  const journal = new AuthorizationJournal(deps.dataSource, deps.publish);
  const candidates = new RefreshCandidates(credentials, journal);
  const leased = new LeasedRefresh({ ...deps, credentials, serveable, journal, candidates, hot });
  const flight = new RefreshFlight(credentials, serveable, leased, options);
  return { hot, credentials, serveable, candidates, flight };
}
