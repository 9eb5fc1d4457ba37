// The reference HTTP server of bench:tokens: bare Node `http`, one small JSON answer to anything.
// Usage: node hello-server.mjs <port>; prints "ready" when it listens.
import http from 'node:http';

const port = Number(process.argv[2]);
const body = JSON.stringify({ hello: 'world' });
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(201, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => console.log('ready'));
process.on('SIGTERM', () => process.exit(0));
