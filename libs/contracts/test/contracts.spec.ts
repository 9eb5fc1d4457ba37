import { BUS_ERROR_CODES, BUS_PATTERN_OWNERS, HTTP_STATUS_BY_BUS_ERROR, MessagePatterns, SERVICE_NAMES, isBusErrorPayload } from '../src';

describe('contracts', () => {
  it('names an owning service for every message pattern', () => {
    const patterns = Object.values(MessagePatterns).flatMap((group) => Object.values(group));
    for (const pattern of patterns) expect(SERVICE_NAMES).toContain(BUS_PATTERN_OWNERS[pattern]);
    expect(Object.keys(BUS_PATTERN_OWNERS).sort()).toEqual([...patterns].sort());
  });

  it('maps client mistakes to 4xx and our failures to 5xx', () => {
    for (const code of BUS_ERROR_CODES) expect(HTTP_STATUS_BY_BUS_ERROR[code]).toBeGreaterThanOrEqual(400);
    expect(HTTP_STATUS_BY_BUS_ERROR.NOT_FOUND).toBe(404);
    expect(HTTP_STATUS_BY_BUS_ERROR.UNPROCESSABLE).toBe(422);
    expect(HTTP_STATUS_BY_BUS_ERROR.TIMEOUT).toBeGreaterThanOrEqual(500);
  });

  it('recognizes bus error payloads only with a known code', () => {
    expect(isBusErrorPayload({ code: 'NOT_FOUND', message: 'x' })).toBe(true);
    expect(isBusErrorPayload({ code: 'TEAPOT', message: 'x' })).toBe(false);
    expect(isBusErrorPayload({ status: 'error', message: 'Internal server error' })).toBe(false);
    expect(isBusErrorPayload(null)).toBe(false);
  });
});
