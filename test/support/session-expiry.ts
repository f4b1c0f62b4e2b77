// Makes a ZooKeeper server expire a client's session for real, as a long pause does, rather than closing it.
import { fourLetter } from '../../lib/local/zookeeper.ts';
import { eventually } from './cli.ts';

/**
 * Expires a client's session the way a long pause does: the proxy it talks through freezes until the server has
 * dropped the session, then thaws, and the client learns of the expiry when it reconnects.
 */
export async function expireSessionBehind(
  proxy: { freeze(): void; thaw(): void },
  serverPort: number,
  sessionId: Buffer,
  timeoutMs = 30_000,
): Promise<void> {
  const sid = `sid=0x${sessionId.toString('hex').replace(/^0+/, '')}`;
  proxy.freeze();
  try {
    await eventually(
      `session ${sid} to expire`,
      async () => !(await fourLetter(serverPort, 'cons')).includes(sid),
      timeoutMs,
    );
  } finally {
    proxy.thaw();
  }
}
