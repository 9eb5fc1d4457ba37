import 'reflect-metadata';
import { runCli } from './cli';

// The admin tool: `npm run admin -- <command>` (or `broker-admin` in the container image).
void runCli(process.argv.slice(2)).then((code) => process.exit(code));
