/**
 * The running configuration as one typed model with change events (BIRD new-config + reconfigure):
 * the CLI changes it through `update`, services subscribe to `change` and re-derive what they need.
 */
import { EventEmitter } from 'node:events';

/** Holds the current model; `update` mutates it and announces the change. */
export class ConfigStore<M> extends EventEmitter<{ change: [M] }> {
  private model: M;
  private batching = 0;
  private dirty = false;
  /** Counts the change events: a derived value is current while its generation is this one. */
  private generation = 0;
  private readonly derivedBy = new Map<(model: Readonly<M>) => unknown, () => unknown>();

  constructor(private readonly factory: () => M) {
    super();
    this.model = factory();
    this.on('change', () => this.generation++);
  }

  /** The current model. Treat it as read-only: change it through `update`. */
  get current(): Readonly<M> {
    return this.model;
  }

  /** Applies `change` and tells listeners (once per batch). */
  update(change: (model: M) => void): void {
    change(this.model);
    this.changed();
  }

  /**
   * `select(model)`, recomputed only after the model changed (BIRD reconfigure, VyOS get_config): the
   * engines read their settings on every request, so they are derived once per change.
   */
  derived<T>(select: (model: Readonly<M>) => T): () => T {
    const known = this.derivedBy.get(select);
    if (known) return known as () => T;
    let cached: { value: T; generation: number } | undefined;
    const get = () => {
      if (cached?.generation !== this.generation) cached = { value: select(this.model), generation: this.generation };
      return cached.value;
    };
    // One getter per selector, however many engines ask for it (and no listener per getter).
    this.derivedBy.set(select, get);
    return get;
  }

  /** Back to factory defaults (boot, reboot). */
  reset(): void {
    this.model = this.factory();
    this.changed();
  }

  /** Runs `work` with change events held back until it finishes (a boot config of thousands of lines). */
  async batch<T>(work: () => Promise<T>): Promise<T> {
    this.batching++;
    try {
      return await work();
    } finally {
      if (--this.batching === 0 && this.dirty) {
        this.dirty = false;
        this.emit('change', this.model);
      }
    }
  }

  private changed(): void {
    if (this.batching > 0) this.dirty = true;
    else this.emit('change', this.model);
  }
}
