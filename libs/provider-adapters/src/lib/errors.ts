/** One rejected instance setting: `name` is the request field (`host`, `endpoints.tokenUrl`, ...). */
export interface FieldError {
  name: string;
  message: string;
}

/** Invalid provider settings; carries every field error found, not just the first. */
export class ProviderConfigError extends Error {
  constructor(
    readonly fields: FieldError[],
    options?: { cause?: unknown },
  ) {
    super(`Invalid provider settings: ${fields.map((f) => `${f.name}: ${f.message}`).join('; ')}`, options);
    this.name = 'ProviderConfigError';
  }
}
