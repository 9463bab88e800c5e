/** A YAML mapping as `yaml`'s `parse` returns it. */
export type YamlMap = Readonly<Record<string, unknown>>;

export function isMap(value: unknown): value is YamlMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value at a path of mapping keys, or undefined when any step is missing or not a mapping. */
export function at(value: unknown, ...keys: readonly string[]): unknown {
  let current = value;
  for (const key of keys) {
    if (!isMap(current)) return undefined;
    current = current[key];
  }
  return current;
}

/** The string at a path, or undefined when it is missing or not a string. */
export function stringAt(value: unknown, ...keys: readonly string[]): string | undefined {
  const found = at(value, ...keys);
  return typeof found === 'string' ? found : undefined;
}

/**
 * The list of strings at a path ([] when missing). A single string counts as a list of one,
 * as GitHub accepts `branches: main` for `branches: [main]`.
 */
export function stringsAt(value: unknown, ...keys: readonly string[]): string[] {
  const found = at(value, ...keys);
  if (typeof found === 'string') return [found];
  if (!Array.isArray(found)) return [];
  return found.filter((item): item is string => typeof item === 'string');
}

/** The mappings in the list at a path ([] when missing). */
export function mapsAt(value: unknown, ...keys: readonly string[]): YamlMap[] {
  const found = at(value, ...keys);
  return Array.isArray(found) ? found.filter(isMap) : [];
}

/** The entries of the mapping at a path whose values are mappings ([] when missing). */
export function mapEntriesAt(value: unknown, ...keys: readonly string[]): [string, YamlMap][] {
  const found = at(value, ...keys);
  if (!isMap(found)) return [];
  return Object.entries(found).filter((entry): entry is [string, YamlMap] => isMap(entry[1]));
}
