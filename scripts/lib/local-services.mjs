// Real PostgreSQL and Redis servers from system binaries (Node built-ins only), for `npm start`,
// `npm test` and jest. One entry point for the modules that do the work:
//   server-binaries.mjs    finding (and apt-installing) initdb/pg_ctl/postgres and redis-server
//   ports.mjs              free TCP ports
//   postgres.mjs, redis.mjs  starting, watching and stopping one server in a directory of ours
//   throwaway-services.mjs a throwaway pair for tests
//   started-resources.mjs  stopping everything this process started (also from the 'exit' hook)
//   processes.mjs          commands, pids and /proc
export { ensureServerBinaries } from './server-binaries.mjs';
export { freePort, portIsFree } from './ports.mjs';
export { createDatabase, postgresPid, startPostgres } from './postgres.mjs';
export { redisPid, startRedis } from './redis.mjs';
export { startThrowawayServices } from './throwaway-services.mjs';
export { stopAllServices, stopAllServicesSync } from './started-resources.mjs';
