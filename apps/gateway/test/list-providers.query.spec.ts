import { parseListProvidersQuery } from '../src/external-oauth/list-providers.query';
import { ExternalOAuthHttpError } from '../src/external-oauth/external-oauth-error.filter';

describe('list providers query', () => {
  it('turns single and repeated parameters into arrays', () => {
    expect(
      parseListProvidersQuery({ types: 'github', ids: ['a', 'b'], host: 'github.com', orderBy: 'createdAt' }),
    ).toEqual({
      types: ['github'],
      ids: ['a', 'b'],
      host: ['github.com'],
      orderBy: 'createdAt',
    });
    expect(parseListProvidersQuery({})).toEqual({});
  });

  it('takes comma lists, mixed with repetition, and compares ids and hosts without case', () => {
    expect(
      parseListProvidersQuery({
        ids: [
          '0F8FAD5B-D9CB-469F-A165-70867728950E,7c9e6679-7425-40de-944b-e07fc1f90ae7',
          'A1B2C3D4-0000-4000-8000-000000000000',
        ],
        types: 'github,gitlab',
        host: 'GitHub.Example.COM, gitlab.example.com',
      }),
    ).toEqual({
      ids: [
        '0f8fad5b-d9cb-469f-a165-70867728950e',
        '7c9e6679-7425-40de-944b-e07fc1f90ae7',
        'a1b2c3d4-0000-4000-8000-000000000000',
      ],
      types: ['github', 'gitlab'],
      host: ['github.example.com', 'gitlab.example.com'],
    });
    let error: unknown;
    try {
      parseListProvidersQuery({ types: 'github,myspace' });
    } catch (e) {
      error = e;
    }
    expect((error as ExternalOAuthHttpError).getResponse()).toMatchObject({
      errorFields: [{ name: 'types' }],
    });
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
