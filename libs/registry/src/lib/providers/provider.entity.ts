import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type {
  GitHubAppSettings,
  OAuthProviderMetadata,
  ProviderEndpointsInput,
  ProviderStatus,
  ProviderType,
} from '@broker/contracts';
import type { ResolvedProvider } from '@broker/provider-adapters';

/** What the org gave to locate the provider instance (self-hosted host, tenant, issuer, explicit endpoints). */
export interface ProviderInstanceConfig {
  host?: string;
  baseUrl?: string;
  tenant?: string;
  issuer?: string;
  endpoints?: ProviderEndpointsInput;
}

/** An org's registered OAuth app at one provider (`registry.providers`). */
@Entity({ name: 'providers' })
@Index('providers_org_created_idx', ['orgId', 'createdAt'])
export class ProviderEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'org_id', type: 'text' })
  orgId!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text' })
  type!: ProviderType;

  @Column({ type: 'text', default: 'active' })
  status!: ProviderStatus;

  @Column({ name: 'client_id', type: 'text' })
  clientId!: string;

  @Column({ name: 'custom_scopes', type: 'jsonb', default: () => "'[]'::jsonb" })
  customScopes!: string[];

  @Column({ name: 'skip_consent', type: 'boolean', default: false })
  skipConsent!: boolean;

  @Column({ name: 'secure_config_id', type: 'uuid', nullable: true })
  secureConfigId!: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'::jsonb" })
  metadata!: OAuthProviderMetadata;

  @Column({ type: 'text', nullable: true })
  host!: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'::jsonb" })
  config!: ProviderInstanceConfig;

  /**
   * What the catalogue resolved at creation (endpoints, revocation, client auth method, PKCE,
   * default scopes...; for `oidc`, from the issuer's discovery document).
   */
  @Column({ type: 'jsonb', default: () => "'{}'::jsonb" })
  resolved!: ResolvedProvider;

  /** A GitHub App's slug and/or install URL (github only; null when not given). */
  @Column({ name: 'github_app', type: 'jsonb', nullable: true })
  githubApp!: GitHubAppSettings | null;

  @Column({ type: 'integer', default: 1 })
  version!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
