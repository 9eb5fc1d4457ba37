import { DataSource } from 'typeorm';
import { BusException } from '@broker/bus';
import type { ListOAuthSetupsQuery, Page } from '@broker/contracts';
import { isUuid } from '../jobs/jobs.service';
import { ListCursors, ListPosition } from './list-cursor';
import { SETUPS, SetupCaller, SetupRow } from './setup-row';

/**
 * One cursor-paginated page of a deployment's setups (people see their own, service accounts the
 * org's), in `order` of creation (default `desc`: newest first), with the flags and cursors that
 * say what lies on either side.
 */
export class SetupPages {
  constructor(
    private readonly dataSource: DataSource,
    private readonly cursors: ListCursors,
  ) {}

  async read(
    caller: SetupCaller,
    deploymentId: string,
    query: ListOAuthSetupsQuery,
  ): Promise<{ rows: SetupRow[]; pagination: Page<unknown>['pagination'] }> {
    const limit = query.limit ?? 20;
    const position = this.position(deploymentId, query);
    const order = position?.order ?? query.order ?? 'desc';
    const base: unknown[] = [caller.orgId, deploymentId];
    let where = `org_id = $1 AND provider_id = $2`;
    if (!caller.isService) {
      base.push(caller.sub);
      where += ` AND user_id = $${base.length}`;
    }
    // "Comes before" / "comes after" in the list's order (ids are UUIDv7: creation order).
    const before = order === 'asc' ? '<' : '>';
    const after = order === 'asc' ? '>' : '<';
    // A page "before" the anchor is read walking backwards, then flipped; one row more than asked says whether more follow.
    const forward = position?.direction !== 'before';
    const params = [...base];
    let range = '';
    if (position) {
      params.push(position.anchor);
      range = ` AND id ${forward ? after : before} $${params.length}`;
    }
    params.push(limit + 1);
    const walk = (order === 'asc') === forward ? 'ASC' : 'DESC';
    const rows = (await this.dataSource.query(
      `SELECT * FROM ${SETUPS} WHERE ${where}${range} ORDER BY id ${walk} LIMIT $${params.length}`,
      params,
    )) as SetupRow[];
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    if (!forward) page.reverse();
    // Whether anything lies beyond the page's other end (beyond the anchor, inclusive, when the page is empty).
    const edge = forward ? page[0]?.id : page.at(-1)?.id;
    let beyond = false;
    if (edge || position) {
      const cmp = `${forward ? before : after}${edge ? '' : '='}`;
      const [found] = (await this.dataSource.query(
        `SELECT EXISTS (SELECT 1 FROM ${SETUPS} WHERE ${where} AND id ${cmp} $${base.length + 1}) AS beyond`,
        [...base, edge ?? position?.anchor],
      )) as { beyond: boolean }[];
      beyond = Boolean(found?.beyond);
    }
    const hasBefore = forward ? beyond : more;
    const hasAfter = forward ? more : beyond;
    const scope = deploymentId;
    const first = page[0]?.id;
    const last = page.at(-1)?.id;
    return {
      rows: page,
      pagination: {
        has_more_before: hasBefore,
        has_more_after: hasAfter,
        next_cursor: last ? this.cursors.encode({ anchor: last, direction: 'after', order }, scope) : null,
        previous_cursor: first
          ? this.cursors.encode({ anchor: first, direction: 'before', order }, scope)
          : null,
      },
    };
  }

  private position(deploymentId: string, query: ListOAuthSetupsQuery): ListPosition | null {
    if (query.cursor !== undefined) {
      const position = this.cursors.decode(query.cursor, deploymentId);
      if (!position)
        throw new BusException('BAD_REQUEST', 'The cursor is not one this list gave out.', [
          { name: 'cursor', message: 'is not a valid cursor for this list' },
        ]);
      if (query.order !== undefined && query.order !== position.order) {
        throw new BusException('BAD_REQUEST', 'The cursor was made for the other order.', [
          { name: 'order', message: `must be ${position.order} with this cursor (or left out)` },
        ]);
      }
      return position;
    }
    const order = query.order ?? 'desc';
    const anchor = query.after ?? query.before;
    if (anchor !== undefined && !isUuid(anchor)) {
      throw new BusException('BAD_REQUEST', 'after and before take a setup id.', [
        { name: query.after !== undefined ? 'after' : 'before', message: 'must be a setup id' },
      ]);
    }
    if (query.after !== undefined) return { anchor: query.after, direction: 'after', order };
    if (query.before !== undefined) return { anchor: query.before, direction: 'before', order };
    return null;
  }
}
