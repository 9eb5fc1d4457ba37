// Keeps the demo provider's state in one JSON file (DEMO_IDP_DATA_DIR/state.json) so that a
// restart does not forget grants, refresh tokens, sessions, signed-in accounts or its keys: the
// broker's linked demo accounts keep working. Written synchronously after every change (a demo's
// traffic is small) to a temporary file renamed over the old one, mode 0600 (it holds live tokens).
import fs from 'node:fs';
import path from 'node:path';

const VERSION = 1;

/** The state file in `dir`: load() → saved state or null; save(state) writes it. */
export function stateFile(dir, log) {
  const file = path.join(dir, 'state.json');
  return {
    file,
    load() {
      let text;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (err) {
        if (err.code === 'ENOENT') return null;
        throw err;
      }
      try {
        const state = JSON.parse(text);
        if (state?.version !== VERSION || !Array.isArray(state.entries))
          throw new Error(`unknown format (version ${state?.version})`);
        return state;
      } catch (err) {
        // Never start on a half-understood file, never silently drop it: keep it aside and start empty.
        const aside = `${file}.unreadable-${Date.now()}`;
        fs.renameSync(file, aside);
        log(`${file} could not be read (${err.message}): moved to ${aside}; starting with no grants`);
        return null;
      }
    },
    save(state) {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify({ version: VERSION, ...state }), { mode: 0o600 });
      fs.renameSync(tmp, file);
    },
  };
}
