// A settings list as a `--help` prints it. The apps' lists are generated from their settings
// schemas (`pnpm settings:generate`) as plain data, so that printing the help loads no zod.

/** A setting as a `--help` lists it: its name, its default and what it is for. */
export type SettingHelp<Name extends string = string> = readonly [name: Name, fallback: string, meaning: string];

/** The settings as aligned lines, each indented by two: name, default, meaning. */
export function formatSettingsHelp(settings: readonly SettingHelp[]): string {
  const width = Math.max(...settings.map(([name]) => name.length));
  const fallbackWidth = Math.max(...settings.map(([, fallback]) => fallback.length));
  return settings
    .map(([name, fallback, meaning]) => `  ${name.padEnd(width)}  ${fallback.padEnd(fallbackWidth)}  ${meaning}`)
    .join('\n');
}
