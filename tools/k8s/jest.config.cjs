// Offline checks of k8s/: both overlays rendered and every object validated against the schemas.
module.exports = { ...require('../../jest.preset.cjs'), displayName: 'k8s-manifests', rootDir: __dirname };
