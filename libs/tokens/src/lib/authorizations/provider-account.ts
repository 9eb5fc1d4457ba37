/** The provider account an authorization is for: its user id there, and a label people recognise. */
export function accountOf(user: Record<string, unknown> | null | undefined): {
  id: string | null;
  label: string | null;
} {
  const text = (v: unknown) =>
    typeof v === 'string' && v.trim() !== ''
      ? v.trim().slice(0, 255)
      : typeof v === 'number'
        ? String(v)
        : null;
  return {
    id: text(user?.['sub']),
    label: text(user?.['email']) ?? text(user?.['nickName']) ?? text(user?.['name']),
  };
}
