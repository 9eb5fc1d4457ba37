/** `/a/{x}/b/` → `/a/{}/b`: paths compared whatever a parameter is called and with or without a trailing slash. */
export function pathShape(path: string): string {
  return path.replace(/\{[^}]+\}/g, '{}').replace(/\/+$/, '') || '/';
}
