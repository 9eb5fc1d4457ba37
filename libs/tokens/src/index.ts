export * from './lib/authorizations/authorization.entity';
export * from './lib/authorizations/authorizations.service';
export * from './lib/authorizations/credential.entity';
export * from './lib/tokens.module';
export * from './lib/tokens.schema';
