// Jest globalTeardown: stops the throwaway servers that global-setup.mjs started (if any).
const STATE = Symbol.for('oauth-token-broker.jest.throwaway-services');

// Stops the servers, removes their temp dir and forgets the URLs it exported.
export default async function globalTeardown() {
  const state = globalThis[STATE];
  if (!state) return;
  delete globalThis[STATE];
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.off(sig, state.onSignal);
  await state.services.stop();
  for (const name of state.setEnv) delete process.env[name];
}
