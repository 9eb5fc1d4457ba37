/**
 * What a scope lets the app do, in words a person consenting understands (the hosted setup page and
 * `auth_method.scopes`). Provider-specific names first, then the OpenID Connect ones every OIDC
 * provider shares; a scope not listed is shown by its name.
 */
const WORDS: Record<string, [name: string, description: string]> = {
  openid: ['Sign-in identity', 'Confirm who you are at the provider'],
  email: ['Email address', 'See your email address'],
  profile: ['Basic profile', 'See your name and profile picture'],
  offline_access: ['Stay connected', 'Keep access while you are not using the app, until you disconnect it'],
  'read:user': ['Profile', 'Read your profile information'],
  'user:email': ['Email addresses', 'See your email addresses'],
  repo: ['Repository access', 'Full control of your private and public repositories'],
  public_repo: ['Public repositories', 'Read and write your public repositories'],
  'read:org': ['Organisations', 'See your organisations and teams'],
  read_user: ['Profile', 'Read your profile information'],
  read_api: ['Read-only API', 'Read your projects, groups and other data'],
  api: ['Full API access', 'Read and write your projects, groups and other data'],
  read_repository: ['Repositories (read)', 'Read your repositories'],
  account: ['Account', 'Read your account information'],
  repository: ['Repositories (read)', 'Read your repositories'],
  'read:me': ['Profile', 'Read your profile information'],
  'read:jira-work': ['Jira work', 'Read your Jira projects and issues'],
  'write:jira-work': ['Jira work (write)', 'Create and change Jira issues'],
  'read:confluence-content.all': ['Confluence content', 'Read your Confluence pages and blog posts'],
  'User.Read': ['Profile', 'Sign you in and read your profile'],
  'Files.Read': ['Files (read)', 'Read your files'],
  'https://www.googleapis.com/auth/userinfo.email': ['Email address', 'See your email address'],
  'https://www.googleapis.com/auth/userinfo.profile': ['Basic profile', 'See your name and profile picture'],
  'https://www.googleapis.com/auth/drive.readonly': [
    'Google Drive (read)',
    'See and download your Google Drive files',
  ],
  root_readonly: ['Files (read)', 'Read your Box files and folders'],
  root_readwrite: ['Files', 'Read and write your Box files and folders'],
};

/** A scope's name and description for people. */
export function describeScope(scope: string): { name: string; description: string } {
  const known = WORDS[scope];
  if (known) return { name: known[0], description: known[1] };
  if (/\/AllSites\.Read$/.test(scope))
    return {
      name: 'SharePoint sites (read)',
      description: 'Read items in all your SharePoint site collections',
    };
  return { name: scope, description: `Access the provider calls “${scope}”` };
}
