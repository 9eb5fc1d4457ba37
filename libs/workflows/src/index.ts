export * from './lib/recorded-jobs';
export * from './lib/job-dispatch/job-dispatch';
export * from './lib/revocation/upstream-revoker';
export * from './lib/provider-deletion/deletion-checkpoint';
export * from './lib/provider-deletion/provider-deletion.workflow';
export * from './lib/key-rotation/rotation-checkpoint';
export * from './lib/key-rotation/key-rotation.workflow';
