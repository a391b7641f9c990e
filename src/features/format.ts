/** Layout shared by `show` commands: AW+-style `name : value` lines with the colons aligned. */
export function fields(rows: readonly (readonly [string, string])[], indent = ''): string[] {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${indent}${k.padEnd(width)} : ${v}`);
}
