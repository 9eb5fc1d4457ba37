#!/usr/bin/env node
// A webhook receiver that verifies the broker's signed deliveries (Standard Webhooks), for trying
// webhooks locally and as the reference verification code (docs/webhooks.md):
//   node tools/webhooks/receiver.cjs --port 8090 --secret whsec_...
// prints each verified delivery, answers 401 to a forged, tampered or stale one and 200 (without
// acting again) to a replay of one already accepted.
'use strict';
const { createServer } = require('node:http');
const { Webhook, WebhookVerificationError } = require('standardwebhooks');

/**
 * Verifies one delivery: the signature over `webhook-id.webhook-timestamp.body` with the endpoint's
 * secret, a timestamp within 5 minutes (the library's tolerance), and a `webhook-id` not accepted
 * before (`seen`: keep ids at least as long as the tolerance). Returns { ok, duplicate, event } or
 * { ok: false, reason }.
 * @param {string} secret the endpoint's signing secret (`whsec_…`)
 * @param {Set<string>} seen the `webhook-id`s accepted so far
 * @param {string} rawBody the request body, exactly as received
 * @param {Record<string, string>} headers the request's headers (lower-case names)
 * @returns {{ ok: true, duplicate: boolean, event: unknown } | { ok: false, reason: string }}
 */
function verifyDelivery(secret, seen, rawBody, headers) {
  let event;
  try {
    event = new Webhook(secret).verify(rawBody, headers);
  } catch (err) {
    if (err instanceof WebhookVerificationError) return { ok: false, reason: err.message };
    throw err;
  }
  const id = headers['webhook-id'];
  if (seen.has(id)) return { ok: true, duplicate: true, event };
  seen.add(id);
  return { ok: true, duplicate: false, event };
}

function main() {
  const args = process.argv.slice(2);
  /** @param {string} name */
  const flag = (name) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const port = Number(flag('port') ?? 8090);
  const secret = flag('secret') ?? process.env.WEBHOOK_SECRET;
  if (!secret) {
    console.error('usage: node tools/webhooks/receiver.cjs --port 8090 --secret whsec_...');
    process.exit(2);
  }
  /** @type {Set<string>} */
  const seen = new Set();
  createServer((req, res) => {
    /** @type {Buffer[]} */
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      /** @type {Record<string, string>} */
      const headers = {};
      for (const [name, value] of Object.entries(req.headers))
        if (typeof value === 'string') headers[name] = value;
      const result = verifyDelivery(secret, seen, Buffer.concat(chunks).toString('utf8'), headers);
      if (!result.ok) {
        console.log(`refused: ${result.reason}`);
        res.writeHead(401).end();
        return;
      }
      if (!result.duplicate) console.log(JSON.stringify(result.event));
      res.writeHead(200).end();
    });
  }).listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port}/`));
}

module.exports = { verifyDelivery };
if (require.main === module) main();
