import base from '../../eslint.config.js';

// Node scripts: `process` is a global here.
export default [
  ...base,
  { files: ['**/*.mjs'], languageOptions: { globals: { process: 'readonly', URL: 'readonly', Buffer: 'readonly' } } },
];
