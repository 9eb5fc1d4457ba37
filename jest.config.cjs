// Root jest config: every project that has a jest.config.cjs (what `npm test` runs).
const { getJestProjectsAsync } = require('@nx/jest');

module.exports = async () => ({ projects: await getJestProjectsAsync() });
