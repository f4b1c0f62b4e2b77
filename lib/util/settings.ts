// Settings read from the environment, and for the forwarder from flags that win over it. Every reader of the product
// goes through this one class, so a value means the same everywhere:
// - values are trimmed, and a blank value is unset (a template's `VAR: ""` keeps the default);
// - a bad value is not thrown at once: every problem is collected, naming the setting, the value it holds and what
//   is expected, and reported in one error, so a broken deployment fails its first start with one readable message
//   instead of one fix per restart;
// - durations are whole numbers in the unit their name carries (`…_MS`, `…_SECONDS`), read with `integer`.

export type Env = Readonly<Record<string, string | undefined>>;

export interface SettingsOptions {
  /** Values that win over the environment, by variable name (command-line flags); blank ones count as unset. */
  readonly overrides?: Env;
  /** How a setting is named in messages; by default, by its variable. */
  readonly label?: (name: string) => string;
}

export interface Range {
  readonly min: number;
  readonly max: number;
}

export class Settings {
  readonly #values: Env;
  readonly #label: (name: string) => string;
  readonly #problems: string[] = [];

  constructor(env: Env, options: SettingsOptions = {}) {
    this.#values = { ...env, ...options.overrides };
    this.#label = options.label ?? ((name) => name);
  }

  /** The trimmed value, or undefined when the setting is unset or blank. */
  text(name: string): string | undefined {
    const value = this.#values[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  /**
   * Records a problem with a setting: `NAME="value": expected`, or `NAME is not set: expected` when it has none.
   * `shown` replaces the value in the message (a shortened one, or one that must not be echoed).
   */
  bad(name: string, expected: string, shown?: string): void {
    const value = shown ?? this.text(name);
    this.#problems.push(
      value === undefined
        ? `${this.#label(name)} is not set: ${expected}`
        : `${this.#label(name)}="${value}": ${expected}`,
    );
  }

  /** The value; '' (and a problem saying `expected`) when unset. */
  required(name: string, expected: string): string {
    const value = this.text(name);
    if (value === undefined) this.bad(name, expected);
    return value ?? '';
  }

  /** A whole number in the range; `fallback` when unset, or bad. */
  integer(name: string, fallback: number, range: Range): number {
    const text = this.text(name);
    if (text === undefined) return fallback;
    const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!(value >= range.min && value <= range.max)) {
      this.bad(name, `use a whole number from ${range.min} to ${range.max}`);
      return fallback;
    }
    return value;
  }

  /** A number written in decimals (`0.25`, `.5`, `3`) in the range; `fallback` when unset, or bad. */
  decimal(name: string, fallback: number, range: Range & { readonly expected?: string }): number {
    const text = this.text(name);
    if (text === undefined) return fallback;
    const value = /^-?\d*\.?\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!(value >= range.min && value <= range.max)) {
      this.bad(name, range.expected ?? `use a number from ${range.min} to ${range.max}`);
      return fallback;
    }
    return value;
  }

  /** `true` or `false`, in any case; `fallback` when unset, or bad. */
  boolean(name: string, fallback: boolean): boolean {
    const text = this.text(name)?.toLowerCase();
    if (text === undefined) return fallback;
    if (text === 'true' || text === 'false') return text === 'true';
    this.bad(name, 'use "true" or "false"');
    return fallback;
  }

  /** One of `choices`, exactly; `fallback` when unset, or bad. */
  oneOf<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const text = this.text(name);
    if (text === undefined) return fallback;
    if ((choices as readonly string[]).includes(text)) return text as T;
    this.bad(name, `use one of ${choices.join(', ')}`);
    return fallback;
  }

  /** A namespace name (a DNS label: lower-case letters, digits and "-"); undefined when unset, or bad. */
  namespace(name: string): string | undefined {
    const text = this.text(name);
    if (text === undefined || /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(text)) return text;
    this.bad(name, 'use a namespace name (lower-case letters, digits and "-")');
    return undefined;
  }

  /** A comma-separated list, items trimmed and empty ones dropped; undefined when unset. */
  list(name: string): string[] | undefined {
    return this.text(name)
      ?.split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }

  /** Throws the error `fail` makes of every problem (joined by "; "), if there is any. */
  check(fail: (problems: string) => Error): void {
    if (this.#problems.length > 0) throw fail(this.#problems.join('; '));
  }
}

/** A setting that a flag or its environment variable sets (the in-cluster processes' settings tables). */
export interface FlagSetting {
  /** e.g. `--cluster-id` */
  readonly flag: string;
  /** The value's name in --help. */
  readonly arg: string;
  readonly env: string;
  readonly help: string;
  readonly required?: true;
  readonly default?: string | number | boolean;
}

/**
 * Settings where a flag wins over its variable (even a blank flag, which then means unset), and messages name both:
 * `--port / HTTP_PORT="x": …`. `flags` is keyed like `table` (commander's camelCase option names).
 */
export function settingsFromFlags<K extends string>(
  table: Readonly<Record<K, FlagSetting>>,
  flags: Partial<Record<K, string | undefined>>,
  env: Env,
): Settings {
  const keys = Object.keys(table) as K[];
  return new Settings(env, {
    overrides: Object.fromEntries(
      keys.flatMap((key) => (flags[key] !== undefined ? [[table[key].env, flags[key]]] : [])),
    ),
    label: (variable) => {
      const key = keys.find((k) => table[k].env === variable);
      return key ? `${table[key].flag} / ${variable}` : variable;
    },
  });
}

/** The settings every in-cluster process has, in its settings table, spelled once. */
export const PROCESS_SETTINGS = {
  kubeconfig: {
    flag: '--kubeconfig',
    arg: 'file',
    env: 'KUBECONFIG',
    help: 'kubeconfig file; default: $KUBECONFIG, ~/.kube/config, then the in-cluster service account',
  },
  port: {
    flag: '--port',
    arg: 'port',
    env: 'HTTP_PORT',
    help: 'port of /healthz, /readyz and /metrics',
    default: 8080,
  },
  logLevel: {
    flag: '--log-level',
    arg: 'level',
    env: 'LOG_LEVEL',
    help: 'debug, info, warn or error',
    default: 'info',
  },
} as const;
