/**
 * The host's cores, shared. The latency model gives every CPU stage its own cores and a functional emulator's pool
 * its own workers, as if each ran alone; on a small host they do not: the stages' workers, the pool's workers and
 * everything else the host runs (the server's main thread decoding and encoding tensors, a load generator, other
 * processes) take turns on the same few cores, and a thread is slower while more threads are runnable than there are
 * cores. This module predicts that slowdown per configuration, so a configuration that loads the pool more (a rate
 * step towards a tenant with a large head) is predicted slower before it is measured.
 *
 * Model (processor sharing, threads independent): the modelled threads form groups — a tenant's CPU stage (`mgc`:
 * `cores` workers, each busy with probability λ·E[S]/cores; `mg1`: `cores` threads busy together with probability
 * λ·E[S]), the emulation pool (`workers` workers, each busy with probability λ_pool·E[h]/workers), and the rest of
 * the host, busy `busy` cores on average (a Poisson number of runnable threads). While a thread runs with K other
 * runnable threads on C cores it runs at min(1, C/(K+1)) of its speed, so its service time stretches by
 * s = E[max(1, (K+1)/C)]. The stretched times raise the utilisations that set K; a few fixed-point rounds settle it.
 * Known limits: threads are taken as independent (busy periods of a pipeline are correlated), CPU caches and
 * memory bandwidth are not modelled, and the rest of the host is measured, not predicted (its share is the same for
 * every candidate configuration).
 */
import type { SystemSetup } from '@swapless/contracts';

/** The host's cores and what else keeps them busy (see the module's comment). */
export interface HostShare {
  /** Cores of the host (e.g. `os.availableParallelism()`), ≥ 1. */
  cores: number;
  /** Mean cores kept busy by everything the model does not place (main thread, other processes), ≥ 0. */
  busy: number;
}

/** Slowdowns of one configuration's threads on a shared host. */
export interface HostContention {
  /** Per tenant (in the system's order): the stretch of its CPU stage's service time (1 without a CPU stage). */
  cpu: number[];
  /** The stretch of the emulation pool's head computations (1 without a pool). */
  pool: number;
  /** Mean cores the modelled threads (CPU stages and pool) keep busy, stretched. */
  busyCores: number;
}

/** The pool of a functional emulator: its workers and each tenant's head compute (ms, null: no head pooled). */
export interface PoolLoad {
  workers: number;
  headsMs: readonly (number | null)[];
}

/** A probability distribution over 0..n busy threads. */
type Dist = number[];

/** At most this many runnable threads are told apart (more count as this many: the stretch is then huge anyway). */
const MAX_THREADS = 24;
/** Fixed-point rounds (the stretch moves little after the first two). */
const ROUNDS = 6;
/** Utilisations are capped just below 1 inside the fixed point (an overloaded queue is the model's to report). */
const CAP = 0.995;

function convolve(a: Dist, b: Dist): Dist {
  const out = new Array<number>(Math.min(MAX_THREADS, a.length + b.length - 1) + 1).fill(0);
  for (let i = 0; i < a.length; i++) {
    const ai = a[i]!;
    if (ai === 0) continue;
    for (let j = 0; j < b.length; j++) out[Math.min(MAX_THREADS, i + j)]! += ai * b[j]!;
  }
  return out;
}

function binomial(n: number, p: number): Dist {
  let d: Dist = [1];
  for (let i = 0; i < n; i++) d = convolve(d, [1 - p, p]);
  return d;
}

function poisson(mean: number): Dist {
  if (!(mean > 0)) return [1];
  const d: Dist = [Math.exp(-mean)];
  let tail = 1 - d[0]!;
  for (let k = 1; k < MAX_THREADS && tail > 1e-9; k++) {
    const p = (d[k - 1]! * mean) / k;
    d.push(p);
    tail -= p;
  }
  d.push(Math.max(0, tail));
  return d;
}

/** A group of modelled threads: `threads` of them, busy together (`together`, mg1) or each on its own. */
interface Group {
  threads: number;
  together: boolean;
  /** Busy probability of one thread (of the whole group when `together`), unstretched. */
  busy: number;
}

function busyDist(g: Group, p: number): Dist {
  if (!g.together) return binomial(g.threads, p);
  const d = new Array<number>(g.threads + 1).fill(0);
  d[0] = 1 - p;
  d[g.threads] = p;
  return d;
}

/** What a running thread of `g` sees besides the other groups: its siblings (all of them in an mg1 stage). */
function siblings(g: Group, p: number): Dist {
  if (g.together) {
    const d = new Array<number>(g.threads).fill(0);
    d[g.threads - 1] = 1;
    return d;
  }
  return binomial(g.threads - 1, p);
}

/** E[max(1, (K+1)/cores)] over K ~ `others`. */
function stretch(others: Dist, cores: number): number {
  let s = 0;
  for (let k = 0; k < others.length; k++) s += others[k]! * Math.max(1, (k + 1) / cores);
  return s;
}

/** The fixed point of the groups' stretches (see the module's comment). */
function settle(groups: readonly Group[], rest: Dist, cores: number): number[] {
  let s = groups.map(() => 1);
  for (let round = 0; round < ROUNDS; round++) {
    const p = groups.map((g, j) => Math.min(CAP, g.busy * s[j]!));
    const dists = groups.map((g, j) => busyDist(g, p[j]!));
    // The distribution of every group but j, from prefix and suffix products: O(groups) convolutions per group.
    const prefix: Dist[] = [rest];
    for (let j = 0; j < groups.length; j++) prefix.push(convolve(prefix[j]!, dists[j]!));
    let suffix: Dist = [1];
    const next = new Array<number>(groups.length);
    for (let j = groups.length - 1; j >= 0; j--) {
      const others = convolve(convolve(prefix[j]!, suffix), siblings(groups[j]!, p[j]!));
      next[j] = stretch(others, cores);
      suffix = convolve(suffix, dists[j]!);
    }
    const moved = next.reduce((m, x, j) => Math.max(m, Math.abs(x - s[j]!)), 0);
    s = next;
    if (moved < 1e-4) break;
  }
  return s;
}

/**
 * The slowdowns of `system`'s CPU stages (at the rates and cuts given) and of an emulation pool computing heads
 * (`pool`, null: none) on a host of `host.cores` cores that is also `host.busy` cores busy with other work.
 */
export function hostContention(system: SystemSetup, pool: PoolLoad | null, host: HostShare): HostContention {
  const cores = Math.max(1, host.cores);
  const groups: Group[] = [];
  const owner: number[] = [];
  system.tenants.forEach((t, i) => {
    const s = t.cpu?.samplesMs;
    if (t.cpu === null || s === undefined || s.length === 0 || !(t.cores >= 1) || !(t.rate > 0)) return;
    const meanMs = s.reduce((a, x) => a + x, 0) / s.length;
    const load = (t.rate / 1000) * meanMs;
    const together = t.cpu.mode === 'mg1';
    groups.push({ threads: t.cores, together, busy: together ? load : load / t.cores });
    owner.push(i);
  });
  let poolGroup = -1;
  if (pool !== null && pool.workers >= 1) {
    let work = 0;
    system.tenants.forEach((t, i) => {
      const h = pool.headsMs[i];
      if (h != null && h > 0 && t.rate > 0) work += (t.rate / 1000) * h;
    });
    if (work > 0) {
      poolGroup = groups.length;
      groups.push({ threads: pool.workers, together: false, busy: work / pool.workers });
    }
  }
  const rest = poisson(Math.max(0, host.busy));
  let s = groups.map(() => 1);
  // Nothing to share: the modelled threads fit the cores and nothing else runs.
  const threads = groups.reduce((n, g) => n + g.threads, 0);
  if (threads > cores || rest.length > 1) s = settle(groups, rest, cores);
  const cpu = system.tenants.map(() => 1);
  owner.forEach((i, j) => {
    cpu[i] = s[j]!;
  });
  // A busy mg1 group keeps all its threads busy; an mgc worker is one thread: either way p × threads.
  const busyCores = groups.reduce((sum, g, j) => sum + Math.min(CAP, g.busy * s[j]!) * g.threads, 0);
  return { cpu, pool: poolGroup >= 0 ? s[poolGroup]! : 1, busyCores };
}
