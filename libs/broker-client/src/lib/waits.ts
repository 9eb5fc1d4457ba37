/**
 * Bounded waits: every promise a caller waits on goes through `bound`, which settles at the
 * deadline at the latest, and `abortAll` ends every wait at once (when the client closes). The
 * awaited work itself goes on (its result may still serve others); only the waiting stops.
 */
export class Waits {
  private readonly aborts = new Set<(err: Error) => void>();

  bound<T>(promise: Promise<T>, deadline: number, onTimeout: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const finish = (): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        this.aborts.delete(abort);
        return true;
      };
      const abort = (err: Error): void => {
        if (finish()) reject(err);
      };
      const timer = setTimeout(() => abort(onTimeout()), Math.max(0, deadline - Date.now()));
      this.aborts.add(abort);
      promise.then(
        (value) => {
          if (finish()) resolve(value);
        },
        (err: unknown) => {
          if (finish()) reject(err);
        },
      );
    });
  }

  abortAll(err: Error): void {
    for (const abort of [...this.aborts]) abort(err);
  }
}
