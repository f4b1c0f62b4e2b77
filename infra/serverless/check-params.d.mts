// Types of the Serverless plugin check-params.mjs, for the tests that call it.
export function placeholders(params: Record<string, unknown>): string[];
export function overGrants(params: Record<string, unknown>): string[];

export default class CheckParams {
  constructor(serverless: unknown);
  readonly hooks: Record<string, () => void>;
  refusePlaceholders(): void;
  refuseOverGrants(): void;
  checkVisibilityTimeout(): void;
}
