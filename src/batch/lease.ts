/**
 * Bounds derived from the job lease, shared by the runner, the sweep and the database options:
 * a Postgres transaction idle longer than idleTransactionBoundMs belongs to a client that lost
 * track of it (the server ends it; the sweep ends such sessions when they block it).
 */
import { SECOND } from "../lib/time.ts";

/** A running execution writes its heartbeat this often: a quarter of the lease, at most 1 s. */
export const heartbeatIntervalMs = (leaseMs: number): number => Math.min(leaseMs / 4, SECOND);

/** The sweep of dead executions runs this often (half the lease, at least 250 ms). */
export const sweepIntervalMs = (leaseMs: number): number => Math.max(leaseMs / 2, 250);

/** How long a transaction may sit idle before it counts as abandoned: the lease, at least 10 s. */
export const idleTransactionBoundMs = (leaseMs: number): number => Math.max(leaseMs, 10 * SECOND);
