/**
 * A broker reply without its ledger ticket: the ticket is for the gateway alone (it reports cache
 * hits with it) and never goes to an HTTP client, who could otherwise replay it to inflate the ledger.
 */
export function withoutLedgerTicket<T extends { ledgerTicket?: string }>(reply: T): Omit<T, 'ledgerTicket'> {
  if (reply.ledgerTicket === undefined) return reply;
  const copy: T = { ...reply };
  delete copy.ledgerTicket;
  return copy;
}
