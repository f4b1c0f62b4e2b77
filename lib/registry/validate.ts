// Validation of one registry entry, shared by everything that produces entries (the mapping, the CLI).
import type { RegistryEntry } from './document.ts';
import { controlCharacterProblem, escapeControlCharacters } from './printable.ts';

export const MAX_NAME_LENGTH = 253;
export const MAX_DESCRIPTION_LENGTH = 1024;
export const MAX_ENDPOINTS = 256;

const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;
const HOSTNAME =
  /^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9A-Fa-f:.]+$/;

export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'the name is empty';
  if (name.length > MAX_NAME_LENGTH) return `the name is longer than ${MAX_NAME_LENGTH} characters`;
  const control = controlCharacterProblem('the name', name);
  if (control) return control;
  if (!NAME.test(name)) {
    return `the name "${name}" may only contain letters, digits, ".", "_" and "-", and must start and end with a letter or digit`;
  }
  return undefined;
}

/** `host:port` where host is a DNS name, an IPv4 address or a bracketed IPv6 address, and port is 1–65535. */
export function endpointProblem(endpoint: string): string | undefined {
  const control = controlCharacterProblem('the endpoint', endpoint);
  if (control) return control;
  const match = /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/.exec(endpoint);
  if (!match) return `the endpoint "${endpoint}" is not host:port`;
  const host = match[1] as string;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return `the endpoint "${endpoint}" has port ${port}, outside 1–65535`;
  const valid = host.startsWith('[')
    ? IPV6.test(host.slice(1, -1)) && host.includes(':')
    : IPV4.test(host) || (HOSTNAME.test(host) && !/^[\d.]+$/.test(host));
  return valid ? undefined : `the endpoint "${endpoint}" has an invalid host "${host}"`;
}

/** Every problem of an entry, as sentences; empty when the entry is valid. */
export function entryProblems(entry: RegistryEntry): string[] {
  const problems: string[] = [];
  const name = nameProblem(entry.name);
  if (name) problems.push(name);
  if (entry.description.length > MAX_DESCRIPTION_LENGTH) {
    problems.push(`the description is longer than ${MAX_DESCRIPTION_LENGTH} characters`);
  }
  const control = controlCharacterProblem('the description', entry.description);
  if (control) problems.push(control);
  if (entry.endpoints.length === 0) problems.push('there are no endpoints');
  if (entry.endpoints.length > MAX_ENDPOINTS) problems.push(`there are more than ${MAX_ENDPOINTS} endpoints`);
  for (const endpoint of entry.endpoints) {
    const problem = endpointProblem(endpoint);
    if (problem) problems.push(problem);
  }
  return problems;
}

export class InvalidEntryError extends Error {
  override readonly name = 'InvalidEntryError';
}

/** Throws an error naming the entry and every problem, or returns the entry with endpoints sorted and unique. */
export function validEntry(entry: RegistryEntry): RegistryEntry {
  const problems = entryProblems(entry);
  if (problems.length > 0)
    throw new InvalidEntryError(
      `entry "${escapeControlCharacters(entry.name)}" is invalid: ${problems.join('; ')}`,
    );
  return {
    name: entry.name,
    description: entry.description,
    endpoints: [...new Set(entry.endpoints)].sort(),
  };
}
