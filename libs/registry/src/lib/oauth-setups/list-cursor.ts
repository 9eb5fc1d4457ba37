import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ListOrder } from '@broker/contracts';

/** Where a page starts: strictly after or before `anchor` (an id) in the list's order. */
export interface ListPosition {
  anchor: string;
  direction: 'after' | 'before';
  order: ListOrder;
}

/**
 * Opaque list cursors: the position, encoded and signed (HMAC-SHA256, truncated), so a client
 * cannot craft or alter one; a bad cursor is refused rather than guessed at. The position is an id
 * (UUIDv7, ordered by creation), not an offset, so inserts and deletes never shift a walk.
 */
export class ListCursors {
  constructor(
    private readonly key: Buffer,
    /** What the cursor belongs to (a deployment): a cursor of another list is refused. */
    private readonly scope = '',
  ) {}

  encode(position: ListPosition, scope: string): string {
    const body = Buffer.from(
      JSON.stringify({ a: position.anchor, d: position.direction, o: position.order }),
    ).toString('base64url');
    return `${body}.${this.mac(body, scope)}`;
  }

  /** The position of a cursor given back by a client; null when it is not one of ours (or not for this list). */
  decode(cursor: string, scope: string): ListPosition | null {
    const [body, mac, extra] = cursor.split('.');
    if (!body || !mac || extra !== undefined || cursor.length > 512) return null;
    const expected = Buffer.from(this.mac(body, scope));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    try {
      const v = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as {
        a?: unknown;
        d?: unknown;
        o?: unknown;
      };
      if (
        typeof v.a !== 'string' ||
        (v.d !== 'after' && v.d !== 'before') ||
        (v.o !== 'asc' && v.o !== 'desc')
      )
        return null;
      return { anchor: v.a, direction: v.d, order: v.o };
    } catch {
      return null;
    }
  }

  private mac(body: string, scope: string): string {
    return createHmac('sha256', this.key)
      .update(`${this.scope}\u0000${scope}\u0000${body}`)
      .digest('base64url')
      .slice(0, 22);
  }
}
