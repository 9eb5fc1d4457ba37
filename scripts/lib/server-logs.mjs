// The log files of the local servers: the last lines for an error message, rotation at start.
import fs from 'node:fs';

const LOG_ROTATE_BYTES = 10 * 1024 * 1024;

/** The last `lines` lines of a log file, or '(no log)'. */
export function tail(file, lines = 30) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Moves a log over 10 MiB to `<file>.1` (one generation kept). */
export function rotateLog(file) {
  try {
    if (fs.statSync(file).size > LOG_ROTATE_BYTES) fs.renameSync(file, `${file}.1`);
  } catch {
    /* no log yet */
  }
}
