// The defaults that more than one part applies: a module's own fallback and the setting that overrides it (the
// Lambdas' environment, a CLI option, a forwarder flag) must never disagree, so each value is written here once.
// README.md, infra/DEPLOY.md and infra/forwarder/README.md quote these values.

/** Services per page of a list (the API's `limit`): the forwarder's and the reconcile's. */
export const LIST_PAGE_SIZE = 500;

/** Longest wait for one list page: a stalled apiserver must fail the list (which is retried whole), not hang it. */
export const LIST_PAGE_TIMEOUT_MS = 60_000;

/**
 * The ZooKeeper session timeout asked for (the server bounds it by its tick time). A session disconnected for this
 * long is given up and replaced, and a watch reads once per session timeout to find a silent connection.
 */
export const ZK_SESSION_TIMEOUT_MS = 15_000;

/**
 * The deadline of connecting to ZooKeeper and of each request, for the Lambdas, the CLI (`--timeout`) and the
 * library alike. 5 s rather than more: the sync starts no write later than TIMEOUT_EARLY_MS (10 s) before its Lambda
 * timeout, so a request stuck at that moment fails inside that margin and the batch goes back to the queue whole,
 * instead of the invocation being killed mid-request. A ZooKeeper that answers nothing for 5 s is down or cut off,
 * and a new session is what helps.
 */
export const ZK_TIMEOUT_MS = 5_000;

/** Compare-and-set attempts of one write under contention. */
export const ZK_MAX_ATTEMPTS = 25;

/** ZooKeeper refuses packets over jute.maxbuffer (0xfffff bytes); this leaves room for the path and headers. */
export const ZK_MAX_DATA_BYTES = 1_000_000;

/** `timeoutSeconds` asked of each watch, so a watch never lives forever (client-go uses 5–10 minutes). */
export const WATCH_TIMEOUT_SECONDS = 300;

/** A watch that delivers nothing at all, not even a bookmark, for this long is abandoned and resumed. */
export const WATCH_STALL_SECONDS = 45;

/** PutEvents calls in flight at once. */
export const SEND_CONCURRENCY = 4;
