export { default } from '../../eslint.scripts.config.mjs';
