// Container HEALTHCHECK: GET http://127.0.0.1:$PORT/health/live, exit 0 on 2xx.
// Plain node (the slim runtime image has no curl/wget).
'use strict';
const http = require('node:http');

const port = Number(process.env.PORT);
if (!Number.isInteger(port) || port <= 0) {
  console.error(`healthcheck: invalid PORT ${JSON.stringify(process.env.PORT)}`);
  process.exit(1);
}

const req = http.get(
  { host: '127.0.0.1', port, path: '/health/live', timeout: 4000 },
  (res) => {
    res.resume();
    process.exit(res.statusCode >= 200 && res.statusCode < 300 ? 0 : 1);
  },
);
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', (err) => {
  console.error(`healthcheck: ${err.message}`);
  process.exit(1);
});
