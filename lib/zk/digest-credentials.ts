// ZooKeeper digest credentials as people and secrets write them. One grammar for every source (the CLI's --auth and
// --acl-writer, an SSM parameter, a Secrets Manager secret), so a value that works in one works in all.
import type { DigestCredentials } from './session.ts';

const EXPECTED = 'expected "user:password" or {"user":"…","password":"…"}';

/**
 * Reads `user:password` (the password may hold ":"), or JSON `{"user": …, "password": …}` (`username` is taken for
 * `user`, as RDS-style secrets name it), around any white space. The problem never quotes the text: it holds a
 * password.
 */
export function parseDigest(text: string): { credentials: DigestCredentials } | { problem: string } {
  const trimmed = text.trim();
  let user: unknown;
  let password: unknown;
  if (trimmed.startsWith('{')) {
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(trimmed) as Record<string, unknown>;
    } catch {
      return { problem: `not valid JSON, though it starts with "{"; ${EXPECTED}` };
    }
    user = value.user ?? value.username;
    password = value.password;
  } else {
    const colon = trimmed.indexOf(':');
    if (colon > 0) {
      user = trimmed.slice(0, colon);
      password = trimmed.slice(colon + 1);
    }
  }
  if (typeof user !== 'string' || user === '' || typeof password !== 'string' || password === '') {
    return { problem: `no ZooKeeper digest credentials; ${EXPECTED}` };
  }
  // The digest id is `user:hash`: a ":" in the user would make it ambiguous.
  if (user.includes(':')) return { problem: 'the digest user must not contain ":"' };
  return { credentials: { user, password } };
}

/**
 * Several identities, as a file or an environment variable holds them: one `user:password` (or one JSON object) a
 * line, blank lines ignored; or the whole text one JSON object, as a secret holds it, laid out over several lines.
 * A problem names the line, never its text.
 */
export function parseDigestList(text: string): { credentials: DigestCredentials[] } | { problem: string } {
  const trimmed = text.trim();
  if (trimmed.startsWith('{') && isJson(trimmed)) {
    const one = parseDigest(trimmed);
    return 'problem' in one ? one : { credentials: [one.credentials] };
  }
  const credentials: DigestCredentials[] = [];
  const lines = text.split(/\r?\n/);
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const parsed = parseDigest(line);
    if ('problem' in parsed) return { problem: `line ${i + 1}: ${parsed.problem}` };
    credentials.push(parsed.credentials);
  }
  if (credentials.length === 0) return { problem: `no ZooKeeper digest credentials; ${EXPECTED}` };
  return { credentials };
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
