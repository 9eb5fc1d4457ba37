// Root jest config: every project that has a jest.config.cjs (what `npm test` runs).
// testTimeout is a global option (project configs cannot set it when run together): integration
// and end-to-end tests start real services, so give them a minute.
const { getJestProjectsAsync } = require('@nx/jest');

module.exports = async () => ({ projects: await getJestProjectsAsync(), testTimeout: 60000 });
