// ESLint flat config: the recommended rules of ESLint and typescript-eslint, kept modest.
// Formatting is Prettier's job (`npm run format:check`), not ESLint's.
import js from '@eslint/js'
import { defineConfig, globalIgnores } from 'eslint/config'
import tseslint from 'typescript-eslint'

export default defineConfig(globalIgnores(['dist/', 'coverage/', 'demo-output/', 'clari-exports/']), js.configs.recommended, tseslint.configs.recommended, {
  rules: {
    // An unused argument is part of a signature (a callback, an interface): prefix it with _ to say so.
    '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }]
  }
})
