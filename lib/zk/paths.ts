// What ZooKeeper accepts as a connect string and as a znode path, as sentences a person can act on. The
// configuration checks settings with these, and the registry store checks its document path.

const HOST_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** `host:port[,host:port…][/chroot]`, as ZooKeeper clients take it; a sentence when it is not. */
export function connectStringProblem(text: string): string | undefined {
  const slash = text.indexOf('/');
  const hosts = slash < 0 ? text : text.slice(0, slash);
  const chroot = slash < 0 ? undefined : text.slice(slash);
  for (const server of hosts.split(',')) {
    const match = HOST_PORT.exec(server.trim());
    if (!match) return `"${server}" is not host:port`;
    const port = Number(match[1]);
    if (port < 1 || port > 65535) return `"${server}" has port ${port}, outside 1–65535`;
  }
  if (chroot !== undefined) {
    const problem = znodePathProblem(chroot);
    if (problem) return `the chroot ${problem}`;
  }
  return undefined;
}

/** The rules ZooKeeper sets for a znode path (and ZkRegistryStore for the document). */
export function znodePathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return `"${path}" is not absolute (start it with "/")`;
  if (path.length > 1 && path.endsWith('/')) return `"${path}" ends with "/"`;
  if (path.includes('//')) return `"${path}" has an empty segment ("//")`;
  if ([...path].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))
    return `"${path}" holds a control character`;
  if (path.split('/').some((s) => s === '.' || s === '..')) return `"${path}" has a "." or ".." segment`;
  if (path === '/zookeeper' || path.startsWith('/zookeeper/'))
    return `"${path}" is under ZooKeeper's own /zookeeper`;
  return undefined;
}
