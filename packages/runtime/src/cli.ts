// What a command line needs before it knows which command runs: parsing with commander,
// exit codes, and turning an error into its lines and exit code. No logger, no settings
// schemas: an app's entry point imports this alone, so that `--help` and a bad argument
// answer without loading the rest (see apps/*/src/main.ts).
export { ExitCode } from './exit-codes.js';
export { ConfigError } from './errors.js';
export type { FatalError } from './errors.js';
export { parseCommandLine, describeFatal } from './command-line.js';
export type { CommandLine } from './command-line.js';
export { formatSettingsHelp } from './settings-help.js';
export type { SettingHelp } from './settings-help.js';
