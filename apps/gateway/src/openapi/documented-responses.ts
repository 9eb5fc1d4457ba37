/**
 * The response bodies the gateway documents in its OpenAPI document, per operation of the four
 * reference API documents (seeds 000-003): status → schema name (`None`: no body), and the schemas.
 * Transcribed from the seeds (the same transcription as e2e/fixtures/seed-*-api.json, whose
 * conformance suites validate the gateway's real answers against these schemas; statuses the
 * gateway adds are in docs/reference-differences.md). apps/gateway/test/openapi.spec.ts checks that
 * the generated document and the seeds agree on operations, statuses and field names.
 */
export interface DocumentedOperation {
  seed: '000' | '001' | '002' | '003';
  method: string;
  path: string;
  summary: string | null;
  responses: { status: number; schema: string }[];
}

export const DOCUMENTED_OPERATIONS: DocumentedOperation[] = [
  {
    seed: '000',
    method: 'GET',
    path: '/api/v2/externalOAuth/authorizedProviders/',
    summary: 'List OAuth Provider Authorizations',
    responses: [
      {
        status: 200,
        schema: 'handler.AuthorizedOAuthProvidersListResponse',
      },
      {
        status: 422,
        schema: 'httpres.ErrorResponse',
      },
    ],
  },
  {
    seed: '000',
    method: 'DELETE',
    path: '/api/v2/externalOAuth/authorizedProviders/{authorizedProviderId}/',
    summary: 'Delete OAuth Provider Authorization by authorized provider ID',
    responses: [
      {
        status: 204,
        schema: 'None',
      },
      {
        status: 404,
        schema: 'httpres.ErrorResponse',
      },
      {
        status: 422,
        schema: 'httpres.ErrorResponse',
      },
    ],
  },
  {
    seed: '000',
    method: 'POST',
    path: '/api/v2/externalOAuth/authorizedProviders/{authorizedProviderId}/token/',
    summary: "Acquire OAuth Provider Authorization's Access Token by authorized provider ID",
    responses: [
      {
        status: 201,
        schema: 'handler.GetAccessTokenResponse',
      },
      {
        status: 403,
        schema: 'httpres.ErrorResponse',
      },
      {
        status: 404,
        schema: 'httpres.ErrorResponse',
      },
      {
        status: 422,
        schema: 'httpres.ErrorResponse',
      },
      {
        status: 410,
        schema: 'httpres.ErrorResponse',
      },
    ],
  },
  {
    seed: '000',
    method: 'GET',
    path: '/api/v2/externalOAuth/authorizedProviders/{authorizedProviderId}/userinfo/',
    summary: 'Get User Information by authorized provider ID',
    responses: [
      {
        status: 200,
        schema: 'oauth.User',
      },
      {
        status: 403,
        schema: 'httpres.ErrorResponse',
      },
      {
        status: 404,
        schema: 'httpres.ErrorResponse',
      },
      {
        status: 410,
        schema: 'httpres.ErrorResponse',
      },
      {
        status: 422,
        schema: 'httpres.ErrorResponse',
      },
    ],
  },
  {
    seed: '000',
    method: 'GET',
    path: '/api/v2/externalOAuth/jobs/{jobId}/',
    summary: 'Get OAuth Provider Job by job ID',
    responses: [
      {
        status: 200,
        schema: 'handler.jobStatusResponse',
      },
      {
        status: 404,
        schema: 'httpres.ErrorResponse',
      },
      {
        status: 422,
        schema: 'httpres.ErrorResponse',
      },
    ],
  },
  {
    seed: '000',
    method: 'GET',
    path: '/api/v2/externalOAuth/providers/',
    summary: 'List OAuth Providers',
    responses: [
      {
        status: 200,
        schema: 'handler.ListOAuthProvidersResponse',
      },
      {
        status: 422,
        schema: 'httpres.ErrorResponse',
      },
    ],
  },
  {
    seed: '000',
    method: 'POST',
    path: '/api/v2/externalOAuth/providers/',
    summary: 'Create OAuth Provider',
    responses: [
      {
        status: 201,
        schema: 'models.OAuthProvider',
      },
      {
        status: 422,
        schema: 'httpres.ErrorResponse',
      },
    ],
  },
  {
    seed: '000',
    method: 'POST',
    path: '/api/v2/externalOAuth/providers/callback/',
    summary: 'OAuth Provider Callback',
    responses: [
      {
        status: 200,
        schema: 'handler.CallbackResponse',
      },
      {
        status: 400,
        schema: 'httpres.ErrorResponse',
      },
      {
        status: 404,
        schema: 'httpres.ErrorResponse',
      },
      {
        status: 422,
        schema: 'httpres.ErrorResponse',
      },
    ],
  },
  {
    seed: '000',
    method: 'DELETE',
    path: '/api/v2/externalOAuth/providers/{providerID}/',
    summary: 'Delete OAuth Provider by provider ID',
    responses: [
      {
        status: 202,
        schema: 'handler.DeleteOAuthProviderResponse',
      },
      {
        status: 422,
        schema: 'httpres.ErrorResponse',
      },
      {
        status: 404,
        schema: 'httpres.ErrorResponse',
      },
    ],
  },
  {
    seed: '000',
    method: 'GET',
    path: '/api/v2/externalOAuth/providers/{providerID}/',
    summary: 'Get OAuth Provider by provider ID',
    responses: [
      {
        status: 200,
        schema: 'models.OAuthProvider',
      },
      {
        status: 404,
        schema: 'httpres.ErrorResponse',
      },
      {
        status: 422,
        schema: 'httpres.ErrorResponse',
      },
    ],
  },
  {
    seed: '000',
    method: 'PATCH',
    path: '/api/v2/externalOAuth/providers/{providerID}/',
    summary: 'Update OAuth Provider by provider ID',
    responses: [
      {
        status: 200,
        schema: 'models.OAuthProvider',
      },
      {
        status: 422,
        schema: 'httpres.ErrorResponse',
      },
      {
        status: 404,
        schema: 'httpres.ErrorResponse',
      },
      {
        status: 409,
        schema: 'httpres.ErrorResponse',
      },
    ],
  },
  {
    seed: '000',
    method: 'POST',
    path: '/api/v2/externalOAuth/providers/{providerId}/authorize/',
    summary: 'Authorize OAuth Provider by provider ID',
    responses: [
      {
        status: 200,
        schema: 'handler.AuthorizeProviderResponse',
      },
      {
        status: 404,
        schema: 'httpres.ErrorResponse',
      },
      {
        status: 409,
        schema: 'httpres.ErrorResponse',
      },
      {
        status: 422,
        schema: 'httpres.ErrorResponse',
      },
    ],
  },
  {
    seed: '001',
    method: 'GET',
    path: '/api/v2/external-auth',
    summary: 'Get user external auths',
    responses: [
      {
        status: 200,
        schema: 'codersdk.ListUserExternalAuthResponse',
      },
      {
        status: 401,
        schema: 'codersdk.Response',
      },
      {
        status: 403,
        schema: 'codersdk.Response',
      },
    ],
  },
  {
    seed: '001',
    method: 'GET',
    path: '/api/v2/external-auth/{externalauth}',
    summary: 'Get external auth by ID',
    responses: [
      {
        status: 200,
        schema: 'codersdk.ExternalAuth',
      },
      {
        status: 401,
        schema: 'codersdk.Response',
      },
      {
        status: 404,
        schema: 'codersdk.Response',
      },
    ],
  },
  {
    seed: '001',
    method: 'DELETE',
    path: '/api/v2/external-auth/{externalauth}',
    summary: 'Delete external auth user link by ID',
    responses: [
      {
        status: 200,
        schema: 'codersdk.DeleteExternalAuthByIDResponse',
      },
      {
        status: 401,
        schema: 'codersdk.Response',
      },
      {
        status: 404,
        schema: 'codersdk.Response',
      },
    ],
  },
  {
    seed: '001',
    method: 'GET',
    path: '/api/v2/external-auth/{externalauth}/device',
    summary: 'Get external auth device by ID',
    responses: [
      {
        status: 200,
        schema: 'codersdk.ExternalAuthDevice',
      },
      {
        status: 401,
        schema: 'codersdk.Response',
      },
      {
        status: 404,
        schema: 'codersdk.Response',
      },
      {
        status: 400,
        schema: 'codersdk.Response',
      },
    ],
  },
  {
    seed: '001',
    method: 'POST',
    path: '/api/v2/external-auth/{externalauth}/device',
    summary: 'Post external auth device by ID',
    responses: [
      {
        status: 204,
        schema: 'None',
      },
      {
        status: 401,
        schema: 'codersdk.Response',
      },
      {
        status: 404,
        schema: 'codersdk.Response',
      },
      {
        status: 400,
        schema: 'codersdk.Response',
      },
    ],
  },
  {
    seed: '002',
    method: 'GET',
    path: '/api/v2/provider-deployments/{provider_deployment_id}/oauth-setups',
    summary: 'List OAuth setups',
    responses: [
      {
        status: 200,
        schema: 'OAuthSetupList',
      },
      {
        status: 400,
        schema: 'Error',
      },
      {
        status: 401,
        schema: 'Error',
      },
      {
        status: 403,
        schema: 'Error',
      },
      {
        status: 404,
        schema: 'Error',
      },
    ],
  },
  {
    seed: '002',
    method: 'GET',
    path: '/api/v2/provider-deployments/{provider_deployment_id}/oauth-setups/{provider_oauth_setup_id}',
    summary: 'Get OAuth setup',
    responses: [
      {
        status: 200,
        schema: 'provider.oauth_setup',
      },
      {
        status: 401,
        schema: 'Error',
      },
      {
        status: 403,
        schema: 'Error',
      },
      {
        status: 404,
        schema: 'Error',
      },
    ],
  },
  {
    seed: '002',
    method: 'POST',
    path: '/api/v2/provider-deployments/{provider_deployment_id}/oauth-setups',
    summary: 'Create OAuth setup',
    responses: [
      {
        status: 201,
        schema: 'provider.oauth_setup',
      },
      {
        status: 400,
        schema: 'Error',
      },
      {
        status: 401,
        schema: 'Error',
      },
      {
        status: 403,
        schema: 'Error',
      },
      {
        status: 404,
        schema: 'Error',
      },
      {
        status: 409,
        schema: 'Error',
      },
      {
        status: 422,
        schema: 'Error',
      },
    ],
  },
  {
    seed: '002',
    method: 'PATCH',
    path: '/api/v2/provider-deployments/{provider_deployment_id}/oauth-setups/{provider_oauth_setup_id}',
    summary: 'Update OAuth setup',
    responses: [
      {
        status: 200,
        schema: 'provider.oauth_setup',
      },
      {
        status: 400,
        schema: 'Error',
      },
      {
        status: 401,
        schema: 'Error',
      },
      {
        status: 403,
        schema: 'Error',
      },
      {
        status: 404,
        schema: 'Error',
      },
      {
        status: 422,
        schema: 'Error',
      },
    ],
  },
  {
    seed: '003',
    method: 'POST',
    path: '/api/v1/oauth/token',
    summary: 'Token Endpoint',
    responses: [
      {
        status: 200,
        schema: 'TokenResponse',
      },
      {
        status: 422,
        schema: 'HTTPValidationError',
      },
      {
        status: 400,
        schema: 'rfc6749.ErrorResponse',
      },
      {
        status: 401,
        schema: 'rfc6749.ErrorResponse',
      },
      {
        status: 429,
        schema: 'rfc6749.ErrorResponse',
      },
    ],
  },
  {
    seed: '003',
    method: 'GET',
    path: '/api/v1/oauth/userinfo',
    summary: 'Userinfo',
    responses: [
      {
        status: 200,
        schema: 'UserInfoResponse',
      },
      {
        status: 422,
        schema: 'HTTPValidationError',
      },
      {
        status: 401,
        schema: 'HTTPException',
      },
    ],
  },
  {
    seed: '003',
    method: 'POST',
    path: '/api/v1/oauth/delegated-token',
    summary: 'Delegated Token',
    responses: [
      {
        status: 200,
        schema: 'TokenResponse',
      },
      {
        status: 422,
        schema: 'HTTPValidationError',
      },
      {
        status: 401,
        schema: 'HTTPException',
      },
      {
        status: 403,
        schema: 'HTTPException',
      },
      {
        status: 404,
        schema: 'HTTPException',
      },
    ],
  },
  {
    seed: '003',
    method: 'GET',
    path: '/api/v1/oauth/principal-token',
    summary: 'Principal Token',
    responses: [
      {
        status: 200,
        schema: 'TokenResponse',
      },
      {
        status: 422,
        schema: 'HTTPValidationError',
      },
      {
        status: 401,
        schema: 'HTTPException',
      },
    ],
  },
];

export const DOCUMENTED_SCHEMAS: Record<string, Record<string, unknown>> = {
  'handler.AuthorizeProviderResponse': {
    properties: {
      redirectUrl: {
        type: 'string',
      },
      state: {
        type: 'string',
      },
    },
    type: 'object',
  },
  'handler.AuthorizedOAuthProvidersListResponse': {
    properties: {
      data: {
        items: {
          properties: {
            createdAt: {
              format: 'date-time',
              type: 'string',
            },
            credentialId: {
              type: 'string',
            },
            id: {
              type: 'string',
            },
            oauthClientId: {
              type: 'string',
            },
            orgId: {
              type: 'string',
            },
            provider: {
              properties: {
                clientId: {
                  type: 'string',
                },
                createdAt: {
                  format: 'date-time',
                  type: 'string',
                },
                customScopes: {
                  items: {
                    type: 'string',
                  },
                  type: 'array',
                  uniqueItems: false,
                },
                id: {
                  type: 'string',
                },
                metadata: {
                  properties: {
                    baseUrl: {
                      type: 'string',
                    },
                    host: {
                      type: 'string',
                    },
                    settingsUrl: {
                      type: 'string',
                    },
                  },
                  type: 'object',
                },
                name: {
                  type: 'string',
                },
                orgId: {
                  type: 'string',
                },
                secureConfigId: {
                  type: 'string',
                },
                skipConsent: {
                  type: 'boolean',
                },
                status: {
                  enum: ['active', 'invalid', 'deleting', 'deletion_failed'],
                  type: 'string',
                  'x-enum-varnames': [
                    'StatusActive',
                    'StatusInvalid',
                    'StatusDeleting',
                    'StatusDeletionFailed',
                  ],
                },
                type: {
                  enum: [
                    'github',
                    'gitlab',
                    'bitbucket',
                    'google',
                    'box',
                    'microsoft',
                    'sharepoint',
                    'jira',
                    'confluence',
                  ],
                  type: 'string',
                  'x-enum-varnames': [
                    'TypeGithub',
                    'TypeGitlab',
                    'TypeBitbucket',
                    'TypeGoogle',
                    'TypeBox',
                    'TypeMicrosoft',
                    'TypeSharepoint',
                    'TypeJira',
                    'TypeConfluence',
                  ],
                },
                updatedAt: {
                  format: 'date-time',
                  type: 'string',
                },
              },
              type: 'object',
            },
            refreshTokenExpiresAt: {
              format: 'date-time',
              type: 'string',
            },
            status: {
              enum: ['active', 'expired', 'invalidOAuthClient', 'invalidProviderState'],
              type: 'string',
              'x-enum-varnames': [
                'AuthzStatusActive',
                'AuthzStatusExpired',
                'AuthzStatusInvalidOAuthClient',
                'AuthzInactiveProviderState',
              ],
            },
            userId: {
              type: 'string',
            },
          },
          type: 'object',
        },
        type: 'array',
        uniqueItems: false,
      },
    },
    type: 'object',
  },
  'handler.CallbackResponse': {
    properties: {
      authorizedProvider: {
        properties: {
          createdAt: {
            format: 'date-time',
            type: 'string',
          },
          credentialId: {
            type: 'string',
          },
          id: {
            type: 'string',
          },
          oauthClientId: {
            type: 'string',
          },
          orgId: {
            type: 'string',
          },
          provider: {
            properties: {
              clientId: {
                type: 'string',
              },
              createdAt: {
                format: 'date-time',
                type: 'string',
              },
              customScopes: {
                items: {
                  type: 'string',
                },
                type: 'array',
                uniqueItems: false,
              },
              id: {
                type: 'string',
              },
              metadata: {
                properties: {
                  baseUrl: {
                    type: 'string',
                  },
                  host: {
                    type: 'string',
                  },
                  settingsUrl: {
                    type: 'string',
                  },
                },
                type: 'object',
              },
              name: {
                type: 'string',
              },
              orgId: {
                type: 'string',
              },
              secureConfigId: {
                type: 'string',
              },
              skipConsent: {
                type: 'boolean',
              },
              status: {
                enum: ['active', 'invalid', 'deleting', 'deletion_failed'],
                type: 'string',
                'x-enum-varnames': [
                  'StatusActive',
                  'StatusInvalid',
                  'StatusDeleting',
                  'StatusDeletionFailed',
                ],
              },
              type: {
                enum: [
                  'github',
                  'gitlab',
                  'bitbucket',
                  'google',
                  'box',
                  'microsoft',
                  'sharepoint',
                  'jira',
                  'confluence',
                ],
                type: 'string',
                'x-enum-varnames': [
                  'TypeGithub',
                  'TypeGitlab',
                  'TypeBitbucket',
                  'TypeGoogle',
                  'TypeBox',
                  'TypeMicrosoft',
                  'TypeSharepoint',
                  'TypeJira',
                  'TypeConfluence',
                ],
              },
              updatedAt: {
                format: 'date-time',
                type: 'string',
              },
            },
            type: 'object',
          },
          refreshTokenExpiresAt: {
            format: 'date-time',
            type: 'string',
          },
          status: {
            enum: ['active', 'expired', 'invalidOAuthClient', 'invalidProviderState'],
            type: 'string',
            'x-enum-varnames': [
              'AuthzStatusActive',
              'AuthzStatusExpired',
              'AuthzStatusInvalidOAuthClient',
              'AuthzInactiveProviderState',
            ],
          },
          userId: {
            type: 'string',
          },
        },
        type: 'object',
      },
      userInfo: {
        properties: {
          description: {
            type: 'string',
          },
          email: {
            type: 'string',
          },
          familyName: {
            type: 'string',
          },
          givenName: {
            type: 'string',
          },
          locale: {
            type: 'string',
          },
          name: {
            type: 'string',
          },
          nickName: {
            type: 'string',
          },
          picture: {
            type: 'string',
          },
          raw: {
            additionalProperties: {},
            type: 'object',
          },
          sub: {
            type: 'string',
          },
        },
        type: 'object',
      },
    },
    type: 'object',
  },
  'handler.DeleteOAuthProviderResponse': {
    properties: {
      location: {
        type: 'string',
      },
    },
    type: 'object',
  },
  'handler.GetAccessTokenResponse': {
    properties: {
      accessToken: {
        type: 'string',
      },
      authorizedOauthProvider: {
        properties: {
          createdAt: {
            format: 'date-time',
            type: 'string',
          },
          credentialId: {
            type: 'string',
          },
          id: {
            type: 'string',
          },
          oauthClientId: {
            type: 'string',
          },
          orgId: {
            type: 'string',
          },
          provider: {
            properties: {
              clientId: {
                type: 'string',
              },
              createdAt: {
                format: 'date-time',
                type: 'string',
              },
              customScopes: {
                items: {
                  type: 'string',
                },
                type: 'array',
                uniqueItems: false,
              },
              id: {
                type: 'string',
              },
              metadata: {
                properties: {
                  baseUrl: {
                    type: 'string',
                  },
                  host: {
                    type: 'string',
                  },
                  settingsUrl: {
                    type: 'string',
                  },
                },
                type: 'object',
              },
              name: {
                type: 'string',
              },
              orgId: {
                type: 'string',
              },
              secureConfigId: {
                type: 'string',
              },
              skipConsent: {
                type: 'boolean',
              },
              status: {
                enum: ['active', 'invalid', 'deleting', 'deletion_failed'],
                type: 'string',
                'x-enum-varnames': [
                  'StatusActive',
                  'StatusInvalid',
                  'StatusDeleting',
                  'StatusDeletionFailed',
                ],
              },
              type: {
                enum: [
                  'github',
                  'gitlab',
                  'bitbucket',
                  'google',
                  'box',
                  'microsoft',
                  'sharepoint',
                  'jira',
                  'confluence',
                ],
                type: 'string',
                'x-enum-varnames': [
                  'TypeGithub',
                  'TypeGitlab',
                  'TypeBitbucket',
                  'TypeGoogle',
                  'TypeBox',
                  'TypeMicrosoft',
                  'TypeSharepoint',
                  'TypeJira',
                  'TypeConfluence',
                ],
              },
              updatedAt: {
                format: 'date-time',
                type: 'string',
              },
            },
            type: 'object',
          },
          refreshTokenExpiresAt: {
            format: 'date-time',
            type: 'string',
          },
          status: {
            enum: ['active', 'expired', 'invalidOAuthClient', 'invalidProviderState'],
            type: 'string',
            'x-enum-varnames': [
              'AuthzStatusActive',
              'AuthzStatusExpired',
              'AuthzStatusInvalidOAuthClient',
              'AuthzInactiveProviderState',
            ],
          },
          userId: {
            type: 'string',
          },
        },
        type: 'object',
      },
      expiresAt: {
        type: 'string',
      },
    },
    type: 'object',
  },
  'handler.ListOAuthProvidersResponse': {
    properties: {
      data: {
        items: {
          properties: {
            clientId: {
              type: 'string',
            },
            createdAt: {
              format: 'date-time',
              type: 'string',
            },
            customScopes: {
              items: {
                type: 'string',
              },
              type: 'array',
              uniqueItems: false,
            },
            id: {
              type: 'string',
            },
            metadata: {
              properties: {
                baseUrl: {
                  type: 'string',
                },
                host: {
                  type: 'string',
                },
                settingsUrl: {
                  type: 'string',
                },
              },
              type: 'object',
            },
            name: {
              type: 'string',
            },
            orgId: {
              type: 'string',
            },
            secureConfigId: {
              type: 'string',
            },
            skipConsent: {
              type: 'boolean',
            },
            status: {
              enum: ['active', 'invalid', 'deleting', 'deletion_failed'],
              type: 'string',
              'x-enum-varnames': ['StatusActive', 'StatusInvalid', 'StatusDeleting', 'StatusDeletionFailed'],
            },
            type: {
              enum: [
                'github',
                'gitlab',
                'bitbucket',
                'google',
                'box',
                'microsoft',
                'sharepoint',
                'jira',
                'confluence',
              ],
              type: 'string',
              'x-enum-varnames': [
                'TypeGithub',
                'TypeGitlab',
                'TypeBitbucket',
                'TypeGoogle',
                'TypeBox',
                'TypeMicrosoft',
                'TypeSharepoint',
                'TypeJira',
                'TypeConfluence',
              ],
            },
            updatedAt: {
              format: 'date-time',
              type: 'string',
            },
          },
          type: 'object',
        },
        type: 'array',
        uniqueItems: false,
      },
    },
    type: 'object',
  },
  'handler.OAuthCallbackRequest': {
    properties: {
      code: {
        type: 'string',
      },
      providerId: {
        type: 'string',
      },
      state: {
        type: 'string',
      },
    },
    required: ['code', 'providerId', 'state'],
    type: 'object',
  },
  'handler.jobStatusResponse': {
    properties: {
      details: {
        description:
          'Details is a slice of key-value pairs containing additional information about the job.\nFor example, for a delete provider job, it may include the provider ID and connected authorization IDs.\nExample usage:\nDetails = []struct {\n    Name:  "provider_id",\n    Value: "1234",\n},\n{\n    Name:  "authorization_ids",\n    Value: []string{"1234", "5678"},\n}',
        items: {
          properties: {
            name: {
              type: 'string',
            },
            value: {
              type: 'string',
            },
          },
          type: 'object',
        },
        type: 'array',
        uniqueItems: false,
      },
      finishedAt: {
        format: 'date-time',
        type: 'string',
      },
      id: {
        type: 'string',
      },
      name: {
        type: 'string',
      },
      orgId: {
        type: 'string',
      },
      startedAt: {
        format: 'date-time',
        type: 'string',
      },
      status: {
        enum: ['PENDING', 'RUNNING', 'COMPLETED', 'ERROR'],
        type: 'string',
        'x-enum-varnames': ['JobStatusPending', 'JobStatusRunning', 'JobStatusCompleted', 'JobStatusError'],
      },
      type: {
        enum: ['DELETE_PROVIDER', 'STATS'],
        type: 'string',
        'x-enum-varnames': ['JobTypeDeleteProvider', 'JobTypeStats'],
      },
    },
    type: 'object',
  },
  'handler.keyValue': {
    properties: {
      name: {
        type: 'string',
      },
      value: {
        type: 'string',
      },
    },
    type: 'object',
  },
  'httpres.ErrorField': {
    properties: {
      message: {
        type: 'string',
      },
      name: {
        type: 'string',
      },
    },
    type: 'object',
  },
  'httpres.ErrorResponse': {
    properties: {
      errorFields: {
        items: {
          properties: {
            message: {
              type: 'string',
            },
            name: {
              type: 'string',
            },
          },
          type: 'object',
        },
        type: 'array',
        uniqueItems: false,
      },
      message: {
        type: 'string',
      },
    },
    type: 'object',
  },
  'models.AuthorizedProvider': {
    properties: {
      createdAt: {
        format: 'date-time',
        type: 'string',
      },
      credentialId: {
        type: 'string',
      },
      id: {
        type: 'string',
      },
      oauthClientId: {
        type: 'string',
      },
      orgId: {
        type: 'string',
      },
      provider: {
        properties: {
          clientId: {
            type: 'string',
          },
          createdAt: {
            format: 'date-time',
            type: 'string',
          },
          customScopes: {
            items: {
              type: 'string',
            },
            type: 'array',
            uniqueItems: false,
          },
          id: {
            type: 'string',
          },
          metadata: {
            properties: {
              baseUrl: {
                type: 'string',
              },
              host: {
                type: 'string',
              },
              settingsUrl: {
                type: 'string',
              },
            },
            type: 'object',
          },
          name: {
            type: 'string',
          },
          orgId: {
            type: 'string',
          },
          secureConfigId: {
            type: 'string',
          },
          skipConsent: {
            type: 'boolean',
          },
          status: {
            enum: ['active', 'invalid', 'deleting', 'deletion_failed'],
            type: 'string',
            'x-enum-varnames': ['StatusActive', 'StatusInvalid', 'StatusDeleting', 'StatusDeletionFailed'],
          },
          type: {
            enum: [
              'github',
              'gitlab',
              'bitbucket',
              'google',
              'box',
              'microsoft',
              'sharepoint',
              'jira',
              'confluence',
            ],
            type: 'string',
            'x-enum-varnames': [
              'TypeGithub',
              'TypeGitlab',
              'TypeBitbucket',
              'TypeGoogle',
              'TypeBox',
              'TypeMicrosoft',
              'TypeSharepoint',
              'TypeJira',
              'TypeConfluence',
            ],
          },
          updatedAt: {
            format: 'date-time',
            type: 'string',
          },
        },
        type: 'object',
      },
      refreshTokenExpiresAt: {
        format: 'date-time',
        type: 'string',
      },
      status: {
        enum: ['active', 'expired', 'invalidOAuthClient', 'invalidProviderState'],
        type: 'string',
        'x-enum-varnames': [
          'AuthzStatusActive',
          'AuthzStatusExpired',
          'AuthzStatusInvalidOAuthClient',
          'AuthzInactiveProviderState',
        ],
      },
      userId: {
        type: 'string',
      },
    },
    type: 'object',
  },
  'models.AuthzStatus': {
    enum: ['active', 'expired', 'invalidOAuthClient', 'invalidProviderState'],
    type: 'string',
    'x-enum-varnames': [
      'AuthzStatusActive',
      'AuthzStatusExpired',
      'AuthzStatusInvalidOAuthClient',
      'AuthzInactiveProviderState',
    ],
  },
  'models.JobStatus': {
    enum: ['PENDING', 'RUNNING', 'COMPLETED', 'ERROR'],
    type: 'string',
    'x-enum-varnames': ['JobStatusPending', 'JobStatusRunning', 'JobStatusCompleted', 'JobStatusError'],
  },
  'models.JobType': {
    enum: ['DELETE_PROVIDER', 'STATS'],
    type: 'string',
    'x-enum-varnames': ['JobTypeDeleteProvider', 'JobTypeStats'],
  },
  'models.OAuthProvider': {
    properties: {
      clientId: {
        type: 'string',
      },
      createdAt: {
        format: 'date-time',
        type: 'string',
      },
      customScopes: {
        items: {
          type: 'string',
        },
        type: 'array',
        uniqueItems: false,
      },
      id: {
        type: 'string',
      },
      metadata: {
        properties: {
          baseUrl: {
            type: 'string',
          },
          host: {
            type: 'string',
          },
          settingsUrl: {
            type: 'string',
          },
        },
        type: 'object',
      },
      name: {
        type: 'string',
      },
      orgId: {
        type: 'string',
      },
      secureConfigId: {
        type: 'string',
      },
      skipConsent: {
        type: 'boolean',
      },
      status: {
        enum: ['active', 'invalid', 'deleting', 'deletion_failed'],
        type: 'string',
        'x-enum-varnames': ['StatusActive', 'StatusInvalid', 'StatusDeleting', 'StatusDeletionFailed'],
      },
      type: {
        enum: [
          'github',
          'gitlab',
          'bitbucket',
          'google',
          'box',
          'microsoft',
          'sharepoint',
          'jira',
          'confluence',
        ],
        type: 'string',
        'x-enum-varnames': [
          'TypeGithub',
          'TypeGitlab',
          'TypeBitbucket',
          'TypeGoogle',
          'TypeBox',
          'TypeMicrosoft',
          'TypeSharepoint',
          'TypeJira',
          'TypeConfluence',
        ],
      },
      updatedAt: {
        format: 'date-time',
        type: 'string',
      },
    },
    type: 'object',
  },
  'models.ProviderMetadata': {
    properties: {
      baseUrl: {
        type: 'string',
      },
      host: {
        type: 'string',
      },
      settingsUrl: {
        type: 'string',
      },
    },
    type: 'object',
  },
  'oauth.User': {
    properties: {
      description: {
        type: 'string',
      },
      email: {
        type: 'string',
      },
      familyName: {
        type: 'string',
      },
      givenName: {
        type: 'string',
      },
      locale: {
        type: 'string',
      },
      name: {
        type: 'string',
      },
      nickName: {
        type: 'string',
      },
      picture: {
        type: 'string',
      },
      raw: {
        additionalProperties: {},
        type: 'object',
      },
      sub: {
        type: 'string',
      },
    },
    type: 'object',
  },
  'oauthprovider.Status': {
    enum: ['active', 'invalid', 'deleting', 'deletion_failed'],
    type: 'string',
    'x-enum-varnames': ['StatusActive', 'StatusInvalid', 'StatusDeleting', 'StatusDeletionFailed'],
  },
  'oauthprovider.Type': {
    enum: ['github', 'gitlab', 'bitbucket', 'google', 'box', 'microsoft', 'sharepoint', 'jira', 'confluence'],
    type: 'string',
    'x-enum-varnames': [
      'TypeGithub',
      'TypeGitlab',
      'TypeBitbucket',
      'TypeGoogle',
      'TypeBox',
      'TypeMicrosoft',
      'TypeSharepoint',
      'TypeJira',
      'TypeConfluence',
    ],
  },
  'provider.CreateProviderRequest': {
    properties: {
      clientId: {
        type: 'string',
      },
      clientSecret: {
        type: 'string',
      },
      name: {
        type: 'string',
      },
      scopes: {
        description: "Optional custom scopes; when set, overrides the provider's default scopes.",
        items: {
          type: 'string',
        },
        type: 'array',
        uniqueItems: false,
      },
      skipConsent: {
        type: 'boolean',
      },
      type: {
        enum: [
          'github',
          'gitlab',
          'bitbucket',
          'google',
          'box',
          'microsoft',
          'sharepoint',
          'jira',
          'confluence',
        ],
        type: 'string',
        'x-enum-varnames': [
          'TypeGithub',
          'TypeGitlab',
          'TypeBitbucket',
          'TypeGoogle',
          'TypeBox',
          'TypeMicrosoft',
          'TypeSharepoint',
          'TypeJira',
          'TypeConfluence',
        ],
      },
    },
    required: ['clientId', 'clientSecret', 'name', 'type'],
    type: 'object',
  },
  'provider.UpdateProviderRequest': {
    properties: {
      clientSecret: {
        type: 'string',
      },
      name: {
        type: 'string',
      },
      skipConsent: {
        type: 'boolean',
      },
      status: {
        enum: ['active', 'invalid', 'deleting', 'deletion_failed'],
        type: 'string',
        'x-enum-varnames': ['StatusActive', 'StatusInvalid', 'StatusDeleting', 'StatusDeletionFailed'],
      },
    },
    type: 'object',
  },
  'codersdk.ExternalAuthLink': {
    properties: {
      authenticated: {
        type: 'boolean',
      },
      created_at: {
        type: 'string',
        format: 'date-time',
      },
      expires: {
        type: 'string',
        format: 'date-time',
      },
      has_refresh_token: {
        type: 'boolean',
      },
      provider_id: {
        type: 'string',
      },
      updated_at: {
        type: 'string',
        format: 'date-time',
      },
      validate_error: {
        type: 'string',
      },
    },
    type: 'object',
  },
  'codersdk.ExternalAuth': {
    properties: {
      app_install_url: {
        type: 'string',
      },
      app_installable: {
        type: 'boolean',
      },
      authenticated: {
        type: 'boolean',
      },
      device: {
        type: 'boolean',
      },
      display_name: {
        type: 'string',
      },
      installations: {
        items: {
          properties: {
            account: {
              properties: {
                avatar_url: {
                  type: 'string',
                },
                id: {
                  type: 'integer',
                },
                login: {
                  type: 'string',
                },
                name: {
                  type: 'string',
                },
                profile_url: {
                  type: 'string',
                },
              },
              type: 'object',
            },
            configure_url: {
              type: 'string',
            },
            id: {
              type: 'integer',
            },
          },
          type: 'object',
        },
        type: 'array',
      },
      supports_revocation: {
        type: 'boolean',
      },
      user: {
        properties: {
          avatar_url: {
            type: 'string',
          },
          id: {
            type: 'integer',
          },
          login: {
            type: 'string',
          },
          name: {
            type: 'string',
          },
          profile_url: {
            type: 'string',
          },
        },
        type: 'object',
      },
    },
    type: 'object',
  },
  'codersdk.ExternalAuthAppInstallation': {
    properties: {
      account: {
        properties: {
          avatar_url: {
            type: 'string',
          },
          id: {
            type: 'integer',
          },
          login: {
            type: 'string',
          },
          name: {
            type: 'string',
          },
          profile_url: {
            type: 'string',
          },
        },
        type: 'object',
      },
      configure_url: {
        type: 'string',
      },
      id: {
        type: 'integer',
      },
    },
    type: 'object',
  },
  'codersdk.ExternalAuthUser': {
    properties: {
      avatar_url: {
        type: 'string',
      },
      id: {
        type: 'integer',
      },
      login: {
        type: 'string',
      },
      name: {
        type: 'string',
      },
      profile_url: {
        type: 'string',
      },
    },
    type: 'object',
  },
  'codersdk.DeleteExternalAuthByIDResponse': {
    properties: {
      token_revocation_error: {
        type: 'string',
      },
      token_revoked: {
        type: 'boolean',
      },
    },
    type: 'object',
  },
  'codersdk.ExternalAuthDevice': {
    properties: {
      device_code: {
        type: 'string',
      },
      expires_in: {
        type: 'integer',
      },
      interval: {
        type: 'integer',
      },
      user_code: {
        type: 'string',
      },
      verification_uri: {
        type: 'string',
      },
    },
    type: 'object',
  },
  'codersdk.ExternalAuthLinkProvider': {
    properties: {
      allow_refresh: {
        type: 'boolean',
      },
      allow_validate: {
        type: 'boolean',
      },
      code_challenge_methods_supported: {
        items: {
          type: 'string',
        },
        type: 'array',
      },
      device: {
        type: 'boolean',
      },
      display_icon: {
        type: 'string',
      },
      display_name: {
        type: 'string',
      },
      id: {
        type: 'string',
      },
      supports_revocation: {
        type: 'boolean',
      },
      type: {
        type: 'string',
      },
    },
    type: 'object',
  },
  'codersdk.ListUserExternalAuthResponse': {
    properties: {
      links: {
        items: {
          properties: {
            authenticated: {
              type: 'boolean',
            },
            created_at: {
              type: 'string',
              format: 'date-time',
            },
            expires: {
              type: 'string',
              format: 'date-time',
            },
            has_refresh_token: {
              type: 'boolean',
            },
            provider_id: {
              type: 'string',
            },
            updated_at: {
              type: 'string',
              format: 'date-time',
            },
            validate_error: {
              type: 'string',
            },
          },
          type: 'object',
        },
        type: 'array',
      },
      providers: {
        items: {
          properties: {
            allow_refresh: {
              type: 'boolean',
            },
            allow_validate: {
              type: 'boolean',
            },
            code_challenge_methods_supported: {
              items: {
                type: 'string',
              },
              type: 'array',
            },
            device: {
              type: 'boolean',
            },
            display_icon: {
              type: 'string',
            },
            display_name: {
              type: 'string',
            },
            id: {
              type: 'string',
            },
            supports_revocation: {
              type: 'boolean',
            },
            type: {
              type: 'string',
            },
          },
          type: 'object',
        },
        type: 'array',
      },
    },
    type: 'object',
  },
  'codersdk.Response': {
    properties: {
      detail: {
        type: 'string',
      },
      message: {
        type: 'string',
      },
      validations: {
        items: {
          properties: {
            detail: {
              type: 'string',
            },
            field: {
              type: 'string',
            },
          },
          type: 'object',
        },
        type: 'array',
      },
    },
    type: 'object',
  },
  'provider.oauth_setup': {
    type: 'object',
    properties: {
      object: {
        type: 'string',
        const: 'provider.oauth_setup',
      },
      id: {
        type: 'string',
      },
      status: {
        type: 'string',
        enum: ['unused', 'opened', 'completed', 'failed', 'expired'],
      },
      is_ephemeral: {
        type: 'boolean',
      },
      provider_id: {
        type: 'string',
      },
      name: {
        type: 'string',
      },
      description: {
        type: 'string',
      },
      metadata: {
        type: 'object',
        additionalProperties: {
          type: 'string',
        },
      },
      redirect_url: {
        type: 'string',
      },
      url: {
        type: 'string',
      },
      auth_config: {
        type: 'object',
        properties: {
          id: {
            type: 'string',
          },
          status: {
            type: 'string',
          },
          type: {
            type: 'string',
          },
          name: {
            type: 'string',
          },
          description: {
            type: 'string',
          },
          metadata: {
            type: 'object',
            additionalProperties: {
              type: 'string',
            },
          },
          provider_id: {
            type: 'string',
          },
          provider_deployment_id: {
            type: 'string',
          },
          provider_auth_method_id: {
            type: 'string',
          },
          created_at: {
            type: 'string',
            format: 'date-time',
          },
          updated_at: {
            type: 'string',
            format: 'date-time',
          },
        },
      },
      credentials: {
        type: 'object',
        properties: {
          id: {
            type: 'string',
          },
          type: {
            type: 'string',
          },
          name: {
            type: 'string',
          },
          description: {
            type: 'string',
          },
          metadata: {
            type: 'object',
            additionalProperties: {
              type: 'string',
            },
          },
          provider_id: {
            type: 'string',
          },
          client_id: {
            type: 'string',
          },
          created_at: {
            type: 'string',
            format: 'date-time',
          },
          updated_at: {
            type: 'string',
            format: 'date-time',
          },
        },
      },
      auth_method: {
        type: 'object',
        properties: {
          object: {
            type: 'string',
            const: 'provider.auth_method',
          },
          id: {
            type: 'string',
          },
          type: {
            type: 'string',
          },
          name: {
            type: 'string',
          },
          description: {
            type: 'string',
          },
          input_schema: {
            type: 'object',
            additionalProperties: true,
          },
          scopes: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                object: {
                  type: 'string',
                  const: 'provider.auth_method.scope',
                },
                id: {
                  type: 'string',
                },
                scope: {
                  type: 'string',
                },
                name: {
                  type: 'string',
                },
                description: {
                  type: 'string',
                },
              },
            },
          },
          provider_id: {
            type: 'string',
          },
          provider_specification_id: {
            type: 'string',
          },
          created_at: {
            type: 'string',
            format: 'date-time',
          },
          updated_at: {
            type: 'string',
            format: 'date-time',
          },
        },
      },
      deployment: {
        type: 'object',
        properties: {
          id: {
            type: 'string',
          },
          name: {
            type: 'string',
          },
          provider_id: {
            type: 'string',
          },
        },
      },
      created_at: {
        type: 'string',
        format: 'date-time',
      },
      updated_at: {
        type: 'string',
        format: 'date-time',
      },
      expires_at: {
        type: 'string',
        format: 'date-time',
      },
      user_id: {
        type: 'string',
        description: 'extension: whose account the setup links (docs/oauth-setups.md)',
      },
    },
  },
  OAuthSetupList: {
    type: 'object',
    properties: {
      items: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            object: {
              type: 'string',
              const: 'provider.oauth_setup',
            },
            id: {
              type: 'string',
            },
            status: {
              type: 'string',
              enum: ['unused', 'opened', 'completed', 'failed', 'expired'],
            },
            is_ephemeral: {
              type: 'boolean',
            },
            provider_id: {
              type: 'string',
            },
            name: {
              type: 'string',
            },
            description: {
              type: 'string',
            },
            metadata: {
              type: 'object',
              additionalProperties: {
                type: 'string',
              },
            },
            redirect_url: {
              type: 'string',
            },
            url: {
              type: 'string',
            },
            auth_config: {
              type: 'object',
              properties: {
                id: {
                  type: 'string',
                },
                status: {
                  type: 'string',
                },
                type: {
                  type: 'string',
                },
                name: {
                  type: 'string',
                },
                description: {
                  type: 'string',
                },
                metadata: {
                  type: 'object',
                  additionalProperties: {
                    type: 'string',
                  },
                },
                provider_id: {
                  type: 'string',
                },
                provider_deployment_id: {
                  type: 'string',
                },
                provider_auth_method_id: {
                  type: 'string',
                },
                created_at: {
                  type: 'string',
                  format: 'date-time',
                },
                updated_at: {
                  type: 'string',
                  format: 'date-time',
                },
              },
            },
            credentials: {
              type: 'object',
              properties: {
                id: {
                  type: 'string',
                },
                type: {
                  type: 'string',
                },
                name: {
                  type: 'string',
                },
                description: {
                  type: 'string',
                },
                metadata: {
                  type: 'object',
                  additionalProperties: {
                    type: 'string',
                  },
                },
                provider_id: {
                  type: 'string',
                },
                client_id: {
                  type: 'string',
                },
                created_at: {
                  type: 'string',
                  format: 'date-time',
                },
                updated_at: {
                  type: 'string',
                  format: 'date-time',
                },
              },
            },
            auth_method: {
              type: 'object',
              properties: {
                object: {
                  type: 'string',
                  const: 'provider.auth_method',
                },
                id: {
                  type: 'string',
                },
                type: {
                  type: 'string',
                },
                name: {
                  type: 'string',
                },
                description: {
                  type: 'string',
                },
                input_schema: {
                  type: 'object',
                  additionalProperties: true,
                },
                scopes: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      object: {
                        type: 'string',
                        const: 'provider.auth_method.scope',
                      },
                      id: {
                        type: 'string',
                      },
                      scope: {
                        type: 'string',
                      },
                      name: {
                        type: 'string',
                      },
                      description: {
                        type: 'string',
                      },
                    },
                  },
                },
                provider_id: {
                  type: 'string',
                },
                provider_specification_id: {
                  type: 'string',
                },
                created_at: {
                  type: 'string',
                  format: 'date-time',
                },
                updated_at: {
                  type: 'string',
                  format: 'date-time',
                },
              },
            },
            deployment: {
              type: 'object',
              properties: {
                id: {
                  type: 'string',
                },
                name: {
                  type: 'string',
                },
                provider_id: {
                  type: 'string',
                },
              },
            },
            created_at: {
              type: 'string',
              format: 'date-time',
            },
            updated_at: {
              type: 'string',
              format: 'date-time',
            },
            expires_at: {
              type: 'string',
              format: 'date-time',
            },
            user_id: {
              type: 'string',
              description: 'extension: whose account the setup links (docs/oauth-setups.md)',
            },
          },
        },
      },
      pagination: {
        type: 'object',
        properties: {
          has_more_before: {
            type: 'boolean',
          },
          has_more_after: {
            type: 'boolean',
          },
          next_cursor: {
            type: 'string',
          },
          previous_cursor: {
            type: 'string',
          },
        },
      },
    },
  },
  Error: {
    type: 'object',
    properties: {
      object: {
        type: 'string',
        const: 'error',
      },
      status: {
        type: 'integer',
      },
      code: {
        type: 'string',
      },
      message: {
        type: 'string',
      },
      errors: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            field: {
              type: 'string',
            },
            message: {
              type: 'string',
            },
          },
        },
      },
    },
  },
  TokenRequest: {
    properties: {
      grant_type: {
        type: 'string',
        title: 'GrantType',
      },
      client_id: {
        anyOf: [
          {
            type: 'string',
          },
          {
            type: 'null',
          },
        ],
        title: 'Client Id',
      },
      code: {
        anyOf: [
          {
            type: 'string',
          },
          {
            type: 'null',
          },
        ],
        title: 'Code',
      },
      client_secret: {
        anyOf: [
          {
            type: 'string',
          },
          {
            type: 'null',
          },
        ],
        title: 'Client Secret',
      },
      code_verifier: {
        anyOf: [
          {
            type: 'string',
          },
          {
            type: 'null',
          },
        ],
        title: 'Code Verifier',
      },
      refresh_token: {
        anyOf: [
          {
            type: 'string',
          },
          {
            type: 'null',
          },
        ],
        title: 'Refresh Token',
      },
      tz: {
        type: 'string',
        enum: [
          'Africa/Abidjan',
          'Africa/Accra',
          'Africa/Addis_Ababa',
          'Africa/Algiers',
          'Africa/Asmara',
          'Africa/Asmera',
          'Africa/Bamako',
          'Africa/Bangui',
          'Africa/Banjul',
          'Africa/Bissau',
          'Africa/Blantyre',
          'Africa/Brazzaville',
          'Africa/Bujumbura',
          'Africa/Cairo',
          'Africa/Casablanca',
          'Africa/Ceuta',
          'Africa/Conakry',
          'Africa/Dakar',
          'Africa/Dar_es_Salaam',
          'Africa/Djibouti',
          'Africa/Douala',
          'Africa/El_Aaiun',
          'Africa/Freetown',
          'Africa/Gaborone',
          'Africa/Harare',
          'Africa/Johannesburg',
          'Africa/Juba',
          'Africa/Kampala',
          'Africa/Khartoum',
          'Africa/Kigali',
          'Africa/Kinshasa',
          'Africa/Lagos',
          'Africa/Libreville',
          'Africa/Lome',
          'Africa/Luanda',
          'Africa/Lubumbashi',
          'Africa/Lusaka',
          'Africa/Malabo',
          'Africa/Maputo',
          'Africa/Maseru',
          'Africa/Mbabane',
          'Africa/Mogadishu',
          'Africa/Monrovia',
          'Africa/Nairobi',
          'Africa/Ndjamena',
          'Africa/Niamey',
          'Africa/Nouakchott',
          'Africa/Ouagadougou',
          'Africa/Porto-Novo',
          'Africa/Sao_Tome',
          'Africa/Timbuktu',
          'Africa/Tripoli',
          'Africa/Tunis',
          'Africa/Windhoek',
          'America/Adak',
          'America/Anchorage',
          'America/Anguilla',
          'America/Antigua',
          'America/Araguaina',
          'America/Argentina/Buenos_Aires',
          'America/Argentina/Catamarca',
          'America/Argentina/ComodRivadavia',
          'America/Argentina/Cordoba',
          'America/Argentina/Jujuy',
          'America/Argentina/La_Rioja',
          'America/Argentina/Mendoza',
          'America/Argentina/Rio_Gallegos',
          'America/Argentina/Salta',
          'America/Argentina/San_Juan',
          'America/Argentina/San_Luis',
          'America/Argentina/Tucuman',
          'America/Argentina/Ushuaia',
          'America/Aruba',
          'America/Asuncion',
          'America/Atikokan',
          'America/Atka',
          'America/Bahia',
          'America/Bahia_Banderas',
          'America/Barbados',
          'America/Belem',
          'America/Belize',
          'America/Blanc-Sablon',
          'America/Boa_Vista',
          'America/Bogota',
          'America/Boise',
          'America/Buenos_Aires',
          'America/Cambridge_Bay',
          'America/Campo_Grande',
          'America/Cancun',
          'America/Caracas',
          'America/Catamarca',
          'America/Cayenne',
          'America/Cayman',
          'America/Chicago',
          'America/Chihuahua',
          'America/Ciudad_Juarez',
          'America/Coral_Harbour',
          'America/Cordoba',
          'America/Costa_Rica',
          'America/Coyhaique',
          'America/Creston',
          'America/Cuiaba',
          'America/Curacao',
          'America/Danmarkshavn',
          'America/Dawson',
          'America/Dawson_Creek',
          'America/Denver',
          'America/Detroit',
          'America/Dominica',
          'America/Edmonton',
          'America/Eirunepe',
          'America/El_Salvador',
          'America/Ensenada',
          'America/Fort_Nelson',
          'America/Fort_Wayne',
          'America/Fortaleza',
          'America/Glace_Bay',
          'America/Godthab',
          'America/Goose_Bay',
          'America/Grand_Turk',
          'America/Grenada',
          'America/Guadeloupe',
          'America/Guatemala',
          'America/Guayaquil',
          'America/Guyana',
          'America/Halifax',
          'America/Havana',
          'America/Hermosillo',
          'America/Indiana/Indianapolis',
          'America/Indiana/Knox',
          'America/Indiana/Marengo',
          'America/Indiana/Petersburg',
          'America/Indiana/Tell_City',
          'America/Indiana/Vevay',
          'America/Indiana/Vincennes',
          'America/Indiana/Winamac',
          'America/Indianapolis',
          'America/Inuvik',
          'America/Iqaluit',
          'America/Jamaica',
          'America/Jujuy',
          'America/Juneau',
          'America/Kentucky/Louisville',
          'America/Kentucky/Monticello',
          'America/Knox_IN',
          'America/Kralendijk',
          'America/La_Paz',
          'America/Lima',
          'America/Los_Angeles',
          'America/Louisville',
          'America/Lower_Princes',
          'America/Maceio',
          'America/Managua',
          'America/Manaus',
          'America/Marigot',
          'America/Martinique',
          'America/Matamoros',
          'America/Mazatlan',
          'America/Mendoza',
          'America/Menominee',
          'America/Merida',
          'America/Metlakatla',
          'America/Mexico_City',
          'America/Miquelon',
          'America/Moncton',
          'America/Monterrey',
          'America/Montevideo',
          'America/Montreal',
          'America/Montserrat',
          'America/Nassau',
          'America/New_York',
          'America/Nipigon',
          'America/Nome',
          'America/Noronha',
          'America/North_Dakota/Beulah',
          'America/North_Dakota/Center',
          'America/North_Dakota/New_Salem',
          'America/Nuuk',
          'America/Ojinaga',
          'America/Panama',
          'America/Pangnirtung',
          'America/Paramaribo',
          'America/Phoenix',
          'America/Port-au-Prince',
          'America/Port_of_Spain',
          'America/Porto_Acre',
          'America/Porto_Velho',
          'America/Puerto_Rico',
          'America/Punta_Arenas',
          'America/Rainy_River',
          'America/Rankin_Inlet',
          'America/Recife',
          'America/Regina',
          'America/Resolute',
          'America/Rio_Branco',
          'America/Rosario',
          'America/Santa_Isabel',
          'America/Santarem',
          'America/Santiago',
          'America/Santo_Domingo',
          'America/Sao_Paulo',
          'America/Scoresbysund',
          'America/Shiprock',
          'America/Sitka',
          'America/St_Barthelemy',
          'America/St_Johns',
          'America/St_Kitts',
          'America/St_Lucia',
          'America/St_Thomas',
          'America/St_Vincent',
          'America/Swift_Current',
          'America/Tegucigalpa',
          'America/Thule',
          'America/Thunder_Bay',
          'America/Tijuana',
          'America/Toronto',
          'America/Tortola',
          'America/Vancouver',
          'America/Virgin',
          'America/Whitehorse',
          'America/Winnipeg',
          'America/Yakutat',
          'America/Yellowknife',
          'Antarctica/Casey',
          'Antarctica/Davis',
          'Antarctica/DumontDUrville',
          'Antarctica/Macquarie',
          'Antarctica/Mawson',
          'Antarctica/McMurdo',
          'Antarctica/Palmer',
          'Antarctica/Rothera',
          'Antarctica/South_Pole',
          'Antarctica/Syowa',
          'Antarctica/Troll',
          'Antarctica/Vostok',
          'Arctic/Longyearbyen',
          'Asia/Aden',
          'Asia/Almaty',
          'Asia/Amman',
          'Asia/Anadyr',
          'Asia/Aqtau',
          'Asia/Aqtobe',
          'Asia/Ashgabat',
          'Asia/Ashkhabad',
          'Asia/Atyrau',
          'Asia/Baghdad',
          'Asia/Bahrain',
          'Asia/Baku',
          'Asia/Bangkok',
          'Asia/Barnaul',
          'Asia/Beirut',
          'Asia/Bishkek',
          'Asia/Brunei',
          'Asia/Calcutta',
          'Asia/Chita',
          'Asia/Choibalsan',
          'Asia/Chongqing',
          'Asia/Chungking',
          'Asia/Colombo',
          'Asia/Dacca',
          'Asia/Damascus',
          'Asia/Dhaka',
          'Asia/Dili',
          'Asia/Dubai',
          'Asia/Dushanbe',
          'Asia/Famagusta',
          'Asia/Gaza',
          'Asia/Harbin',
          'Asia/Hebron',
          'Asia/Ho_Chi_Minh',
          'Asia/Hong_Kong',
          'Asia/Hovd',
          'Asia/Irkutsk',
          'Asia/Istanbul',
          'Asia/Jakarta',
          'Asia/Jayapura',
          'Asia/Jerusalem',
          'Asia/Kabul',
          'Asia/Kamchatka',
          'Asia/Karachi',
          'Asia/Kashgar',
          'Asia/Kathmandu',
          'Asia/Katmandu',
          'Asia/Khandyga',
          'Asia/Kolkata',
          'Asia/Krasnoyarsk',
          'Asia/Kuala_Lumpur',
          'Asia/Kuching',
          'Asia/Kuwait',
          'Asia/Macao',
          'Asia/Macau',
          'Asia/Magadan',
          'Asia/Makassar',
          'Asia/Manila',
          'Asia/Muscat',
          'Asia/Nicosia',
          'Asia/Novokuznetsk',
          'Asia/Novosibirsk',
          'Asia/Omsk',
          'Asia/Oral',
          'Asia/Phnom_Penh',
          'Asia/Pontianak',
          'Asia/Pyongyang',
          'Asia/Qatar',
          'Asia/Qostanay',
          'Asia/Qyzylorda',
          'Asia/Rangoon',
          'Asia/Riyadh',
          'Asia/Saigon',
          'Asia/Sakhalin',
          'Asia/Samarkand',
          'Asia/Seoul',
          'Asia/Shanghai',
          'Asia/Singapore',
          'Asia/Srednekolymsk',
          'Asia/Taipei',
          'Asia/Tashkent',
          'Asia/Tbilisi',
          'Asia/Tehran',
          'Asia/Tel_Aviv',
          'Asia/Thimbu',
          'Asia/Thimphu',
          'Asia/Tokyo',
          'Asia/Tomsk',
          'Asia/Ujung_Pandang',
          'Asia/Ulaanbaatar',
          'Asia/Ulan_Bator',
          'Asia/Urumqi',
          'Asia/Ust-Nera',
          'Asia/Vientiane',
          'Asia/Vladivostok',
          'Asia/Yakutsk',
          'Asia/Yangon',
          'Asia/Yekaterinburg',
          'Asia/Yerevan',
          'Atlantic/Azores',
          'Atlantic/Bermuda',
          'Atlantic/Canary',
          'Atlantic/Cape_Verde',
          'Atlantic/Faeroe',
          'Atlantic/Faroe',
          'Atlantic/Jan_Mayen',
          'Atlantic/Madeira',
          'Atlantic/Reykjavik',
          'Atlantic/South_Georgia',
          'Atlantic/St_Helena',
          'Atlantic/Stanley',
          'Australia/ACT',
          'Australia/Adelaide',
          'Australia/Brisbane',
          'Australia/Broken_Hill',
          'Australia/Canberra',
          'Australia/Currie',
          'Australia/Darwin',
          'Australia/Eucla',
          'Australia/Hobart',
          'Australia/LHI',
          'Australia/Lindeman',
          'Australia/Lord_Howe',
          'Australia/Melbourne',
          'Australia/NSW',
          'Australia/North',
          'Australia/Perth',
          'Australia/Queensland',
          'Australia/South',
          'Australia/Sydney',
          'Australia/Tasmania',
          'Australia/Victoria',
          'Australia/West',
          'Australia/Yancowinna',
          'Brazil/Acre',
          'Brazil/DeNoronha',
          'Brazil/East',
          'Brazil/West',
          'CET',
          'CST6CDT',
          'Canada/Atlantic',
          'Canada/Central',
          'Canada/Eastern',
          'Canada/Mountain',
          'Canada/Newfoundland',
          'Canada/Pacific',
          'Canada/Saskatchewan',
          'Canada/Yukon',
          'Chile/Continental',
          'Chile/EasterIsland',
          'Cuba',
          'EET',
          'EST',
          'EST5EDT',
          'Egypt',
          'Eire',
          'Etc/GMT',
          'Etc/GMT+0',
          'Etc/GMT+1',
          'Etc/GMT+10',
          'Etc/GMT+11',
          'Etc/GMT+12',
          'Etc/GMT+2',
          'Etc/GMT+3',
          'Etc/GMT+4',
          'Etc/GMT+5',
          'Etc/GMT+6',
          'Etc/GMT+7',
          'Etc/GMT+8',
          'Etc/GMT+9',
          'Etc/GMT-0',
          'Etc/GMT-1',
          'Etc/GMT-10',
          'Etc/GMT-11',
          'Etc/GMT-12',
          'Etc/GMT-13',
          'Etc/GMT-14',
          'Etc/GMT-2',
          'Etc/GMT-3',
          'Etc/GMT-4',
          'Etc/GMT-5',
          'Etc/GMT-6',
          'Etc/GMT-7',
          'Etc/GMT-8',
          'Etc/GMT-9',
          'Etc/GMT0',
          'Etc/Greenwich',
          'Etc/UCT',
          'Etc/UTC',
          'Etc/Universal',
          'Etc/Zulu',
          'Europe/Amsterdam',
          'Europe/Andorra',
          'Europe/Astrakhan',
          'Europe/Athens',
          'Europe/Belfast',
          'Europe/Belgrade',
          'Europe/Berlin',
          'Europe/Bratislava',
          'Europe/Brussels',
          'Europe/Bucharest',
          'Europe/Budapest',
          'Europe/Busingen',
          'Europe/Chisinau',
          'Europe/Copenhagen',
          'Europe/Dublin',
          'Europe/Gibraltar',
          'Europe/Guernsey',
          'Europe/Helsinki',
          'Europe/Isle_of_Man',
          'Europe/Istanbul',
          'Europe/Jersey',
          'Europe/Kaliningrad',
          'Europe/Kiev',
          'Europe/Kirov',
          'Europe/Kyiv',
          'Europe/Lisbon',
          'Europe/Ljubljana',
          'Europe/London',
          'Europe/Luxembourg',
          'Europe/Madrid',
          'Europe/Malta',
          'Europe/Mariehamn',
          'Europe/Minsk',
          'Europe/Monaco',
          'Europe/Moscow',
          'Europe/Nicosia',
          'Europe/Oslo',
          'Europe/Paris',
          'Europe/Podgorica',
          'Europe/Prague',
          'Europe/Riga',
          'Europe/Rome',
          'Europe/Samara',
          'Europe/San_Marino',
          'Europe/Sarajevo',
          'Europe/Saratov',
          'Europe/Simferopol',
          'Europe/Skopje',
          'Europe/Sofia',
          'Europe/Stockholm',
          'Europe/Tallinn',
          'Europe/Tirane',
          'Europe/Tiraspol',
          'Europe/Ulyanovsk',
          'Europe/Uzhgorod',
          'Europe/Vaduz',
          'Europe/Vatican',
          'Europe/Vienna',
          'Europe/Vilnius',
          'Europe/Volgograd',
          'Europe/Warsaw',
          'Europe/Zagreb',
          'Europe/Zaporozhye',
          'Europe/Zurich',
          'Factory',
          'GB',
          'GB-Eire',
          'GMT',
          'GMT+0',
          'GMT-0',
          'GMT0',
          'Greenwich',
          'HST',
          'Hongkong',
          'Iceland',
          'Indian/Antananarivo',
          'Indian/Chagos',
          'Indian/Christmas',
          'Indian/Cocos',
          'Indian/Comoro',
          'Indian/Kerguelen',
          'Indian/Mahe',
          'Indian/Maldives',
          'Indian/Mauritius',
          'Indian/Mayotte',
          'Indian/Reunion',
          'Iran',
          'Israel',
          'Jamaica',
          'Japan',
          'Kwajalein',
          'Libya',
          'MET',
          'MST',
          'MST7MDT',
          'Mexico/BajaNorte',
          'Mexico/BajaSur',
          'Mexico/General',
          'NZ',
          'NZ-CHAT',
          'Navajo',
          'PRC',
          'PST8PDT',
          'Pacific/Apia',
          'Pacific/Auckland',
          'Pacific/Bougainville',
          'Pacific/Chatham',
          'Pacific/Chuuk',
          'Pacific/Easter',
          'Pacific/Efate',
          'Pacific/Enderbury',
          'Pacific/Fakaofo',
          'Pacific/Fiji',
          'Pacific/Funafuti',
          'Pacific/Galapagos',
          'Pacific/Gambier',
          'Pacific/Guadalcanal',
          'Pacific/Guam',
          'Pacific/Honolulu',
          'Pacific/Johnston',
          'Pacific/Kanton',
          'Pacific/Kiritimati',
          'Pacific/Kosrae',
          'Pacific/Kwajalein',
          'Pacific/Majuro',
          'Pacific/Marquesas',
          'Pacific/Midway',
          'Pacific/Nauru',
          'Pacific/Niue',
          'Pacific/Norfolk',
          'Pacific/Noumea',
          'Pacific/Pago_Pago',
          'Pacific/Palau',
          'Pacific/Pitcairn',
          'Pacific/Pohnpei',
          'Pacific/Ponape',
          'Pacific/Port_Moresby',
          'Pacific/Rarotonga',
          'Pacific/Saipan',
          'Pacific/Samoa',
          'Pacific/Tahiti',
          'Pacific/Tarawa',
          'Pacific/Tongatapu',
          'Pacific/Truk',
          'Pacific/Wake',
          'Pacific/Wallis',
          'Pacific/Yap',
          'Poland',
          'Portugal',
          'ROC',
          'ROK',
          'Singapore',
          'Turkey',
          'UCT',
          'US/Alaska',
          'US/Aleutian',
          'US/Arizona',
          'US/Central',
          'US/East-Indiana',
          'US/Eastern',
          'US/Hawaii',
          'US/Indiana-Starke',
          'US/Michigan',
          'US/Mountain',
          'US/Pacific',
          'US/Samoa',
          'UTC',
          'Universal',
          'W-SU',
          'WET',
          'Zulu',
          'localtime',
        ],
        minLength: 1,
        title: 'Tz',
        default: 'Europe/Oslo',
      },
    },
    type: 'object',
    required: ['grant_type'],
    title: 'TokenRequest',
  },
  TokenResponse: {
    properties: {
      access_token: {
        type: 'string',
        title: 'Access Token',
      },
      token_type: {
        type: 'string',
        const: 'Bearer',
        title: 'Token Type',
        default: 'Bearer',
      },
      expires_in: {
        type: 'integer',
        title: 'Expires In',
      },
      refresh_token: {
        anyOf: [
          {
            type: 'string',
          },
          {
            type: 'null',
          },
        ],
        title: 'Refresh Token',
      },
      scope: {
        anyOf: [
          {
            type: 'string',
          },
          {
            type: 'null',
          },
        ],
        title: 'Scope',
      },
      id_token: {
        anyOf: [
          {
            type: 'string',
          },
          {
            type: 'null',
          },
        ],
        title: 'Id Token',
      },
    },
    type: 'object',
    required: ['access_token', 'expires_in'],
    title: 'TokenResponse',
  },
  HTTPValidationError: {
    properties: {
      detail: {
        items: {
          properties: {
            loc: {
              items: {
                anyOf: [
                  {
                    type: 'string',
                  },
                  {
                    type: 'integer',
                  },
                ],
              },
              type: 'array',
              title: 'Location',
            },
            msg: {
              type: 'string',
              title: 'Message',
            },
            type: {
              type: 'string',
              title: 'Error Type',
            },
          },
          type: 'object',
          required: ['loc', 'msg', 'type'],
          title: 'ValidationError',
        },
        type: 'array',
        title: 'Detail',
      },
    },
    type: 'object',
    title: 'HTTPValidationError',
  },
  ValidationError: {
    properties: {
      loc: {
        items: {
          anyOf: [
            {
              type: 'string',
            },
            {
              type: 'integer',
            },
          ],
        },
        type: 'array',
        title: 'Location',
      },
      msg: {
        type: 'string',
        title: 'Message',
      },
      type: {
        type: 'string',
        title: 'Error Type',
      },
    },
    type: 'object',
    required: ['loc', 'msg', 'type'],
    title: 'ValidationError',
  },
  UserInfoResponse: {
    properties: {
      sub: {
        type: 'string',
        title: 'Sub',
      },
      given_name: {
        anyOf: [
          {
            type: 'string',
          },
          {
            type: 'null',
          },
        ],
        title: 'Given Name',
      },
      family_name: {
        anyOf: [
          {
            type: 'string',
          },
          {
            type: 'null',
          },
        ],
        title: 'Family Name',
      },
      email: {
        anyOf: [
          {
            type: 'string',
          },
          {
            type: 'null',
          },
        ],
        title: 'Email',
      },
      registered_at: {
        type: 'string',
        format: 'date-time',
        title: 'Registered At',
      },
      name: {
        type: 'string',
        title: 'Name',
        readOnly: true,
      },
    },
    type: 'object',
    required: ['sub', 'registered_at', 'name'],
    title: 'UserInfoResponse',
  },
  DelegatedTokenRequest: {
    properties: {
      sub: {
        type: 'string',
        title: 'Sub',
      },
      scopes: {
        anyOf: [
          {
            items: {
              type: 'string',
            },
            type: 'array',
          },
          {
            type: 'null',
          },
        ],
        title: 'Scopes',
      },
      team_id: {
        anyOf: [
          {
            type: 'string',
          },
          {
            type: 'null',
          },
        ],
        title: 'Team Id',
      },
    },
    type: 'object',
    required: ['sub'],
    title: 'DelegatedTokenRequest',
  },
  'rfc6749.ErrorResponse': {
    properties: {
      error: {
        type: 'string',
      },
      error_description: {
        type: 'string',
      },
    },
    type: 'object',
  },
  HTTPException: {
    properties: {
      detail: {
        type: 'string',
      },
    },
    type: 'object',
  },
};
