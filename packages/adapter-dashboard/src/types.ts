/**
 * What the dashboard reads. The source's methods return plain JSON-able objects; the shapes below document the
 * fields the page uses (they are `@swapless/service`'s SeriesSample, TenantStatus, DeviceState, ControllerStatus
 * and DecisionRecord). Fields the page does not know are passed through untouched; missing ones show as "–".
 */
import type { QueueDiscipline } from '@swapless/core';

/** One controller tick (epoch ms) with per-tenant figures. */
export interface DashboardSample {
  atMs: number;
  tenants: Record<
    string,
    {
      ratePerS: number;
      completed: number;
      meanMs: number | null;
      p99Ms: number | null;
      k: number;
      cores: number;
      inFlight: number;
      /** Predicted mean response at this tick, ms (the latency chart's dotted line). */
      predictedMs?: number | null;
      /** Refused at admission (503) / dropped on their deadline (504) during the tick window. */
      rejected?: number;
      expired?: number;
      /** Measured/predicted mean response of the tick. */
      divergence?: number | null;
      /** Mean lag of emulated head outputs behind the device in the tick window, ms (null: none or real device). */
      emulationLagMs?: number | null;
    }
  >;
  tpu: { queued: number; reloads: number; busyFraction: number };
  /** The same per Edge TPU, by id (the Edge TPU load chart draws one line per device when there are several). */
  devices?: Record<string, { queued: number; reloads: number; busyFraction: number }>;
}

/** A tenant row of the table. */
export interface DashboardTenant {
  name: string;
  source?: string;
  ops?: number;
  k: number;
  cores: number;
  mode?: string;
  /** Id of the Edge TPU its head runs on (the table's Device column). */
  device?: string;
  /** Placed there by the operator (📌). */
  pinned?: boolean;
  sloMs?: number | null;
  rate?: { estimatedPerS: number; priorPerS?: number };
  predictedMs?: number | null;
  measured?: { count: number; meanMs: number; p50Ms?: number; p95Ms?: number; p99Ms: number; maxMs?: number };
  /** Of the TPU part; the CPU part is always measured. */
  timing: 'emulated' | 'measured';
  completed?: number;
  failed?: number;
  rejected?: number;
  inFlight?: number;
  /** Measured/predicted mean response; `sinceMs` (epoch ms) while off by more than 25 %, else null. */
  divergence?: {
    ratio: number | null;
    measuredMs: number | null;
    predictedMs: number | null;
    sinceMs: number | null;
  };
}

/** The device's cache state. */
export interface DashboardDevice {
  profile: string;
  backend: 'emulated' | 'edgetpu';
  /** Usable on-chip SRAM for parameters, bytes. */
  capacityBytes: number;
  /** Tenant whose head holds the caching token now, if known. */
  holder: string | null;
  tenants: { name: string; k: number; cachedBytes: number; streamedBytes: number; token?: string }[];
  calls?: number;
  reloads?: number;
  busyMs?: number;
  /** Every Edge TPU of the host; with several, the device card lists them (tenants, token holder, busy share). */
  devices?: {
    id: string;
    profile: string | null;
    holder: string | null;
    tenants: string[];
    queued: number;
    calls: number;
    reloads: number;
    busyMs: number;
  }[];
}

/** The controller's status. */
export interface DashboardController {
  policy: string;
  cores: number;
  backend?: 'emulated' | 'edgetpu';
  decisions?: number;
  reconfigurations?: number;
  decisionMs?: { last: number; p50: number; p99: number; max: number };
  /** The emulated device's head computation over the last seconds (null for the real device); banner when lagging. */
  emulation?: {
    lagging: boolean;
    laggingFraction: number | null;
    meanLagMs: number | null;
    meanComputeMs: number | null;
    message: string | null;
  } | null;
  /**
   * Co-compiled head sets in force (tenant names in compile order; the service's `ControllerStatus.sets`): the
   * "Head sets · TPU queue" fact with `discipline`.
   */
  sets?: string[][];
  /** The Edge TPU queue discipline in force: `fifo`, or switch-aware with its bound on a call's extra wait, ms. */
  discipline?: QueueDiscipline;
  /** The last tick's weighing by an adaptive policy (the service's `ControllerStatus.lastVerdict`); null when none. */
  lastVerdict?: {
    switch: boolean;
    reason: string;
    currentMs: number;
    candidateMs: number;
    changed: string[];
  } | null;
}

/** One controller decision. */
export interface DashboardDecision {
  seq: number;
  atMs: number;
  trigger: string;
  choices: { name: string; k: number; cores: number; mode?: string }[];
  predictedMs: number | null;
  reason: string;
  decisionMs: number;
  applied: boolean;
  error?: string;
  /** Co-compiled head sets it decided (shown beside its choices). */
  sets?: string[][];
  /** The Edge TPU queue discipline it decided. */
  discipline?: QueueDiscipline;
}

/**
 * Where the dashboard's data comes from (`@swapless/service`'s Service satisfies it). Every method is called on
 * each poll of the data endpoint, so each should be cheap (snapshots, not computations).
 */
export interface DashboardSource {
  /** Samples with `atMs > sinceMs` (all kept samples when undefined), oldest first. */
  series(sinceMs?: number): readonly { atMs: number }[];
  tenants(): readonly object[];
  device(): object;
  controller(): object;
  /** The newest `limit` decisions, newest last. */
  history(limit: number): readonly object[];
}

/** Body of `GET <path>/data`. */
export interface DashboardData {
  /** Server time, epoch ms. */
  now: number;
  series: readonly object[];
  tenants: readonly object[];
  device: object;
  controller: object;
  history: readonly object[];
}
