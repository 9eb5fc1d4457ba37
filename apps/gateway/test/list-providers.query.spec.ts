import { parseListProvidersQuery } from '../src/external-oauth/list-providers.query';
import { ExternalOAuthHttpError } from '../src/external-oauth/external-oauth-error.filter';

describe('list providers query', () => {
  it('turns single and repeated parameters into arrays', () => {
    expect(parseListProvidersQuery({ types: 'github', ids: ['a', 'b'], host: 'github.com', orderBy: 'createdAt' })).toEqual({
      types: ['github'],
      ids: ['a', 'b'],
      host: ['github.com'],
      orderBy: 'createdAt',
    });
    expect(parseListProvidersQuery({})).toEqual({});
  });

  it('is a 422 naming every bad parameter', () => {
    let error: unknown;
    try {
      parseListProvidersQuery({ types: ['github', 'myspace'], orderBy: 'name', ids: '' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ExternalOAuthHttpError);
    const http = error as ExternalOAuthHttpError;
    expect(http.getStatus()).toBe(422);
    const body = http.getResponse() as { errorFields: { name: string }[] };
    expect(body.errorFields.map((f) => f.name).sort()).toEqual(['ids', 'orderBy', 'types']);
  });
});
