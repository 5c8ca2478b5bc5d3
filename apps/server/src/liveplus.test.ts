// The `swapless+` policy served live: a server whose policy co-compiles two tenants' heads into one set (their
// turns stop reloading the device), a decision that only changes the Edge TPU discipline reaching the runtime, and
// the sets and discipline in force in the controller status, the decision history, the metrics and the dashboard.
import type { Decision, TpuDiscipline } from '@swapless/contracts';
import type { Policy, PolicyContext } from '@swapless/controller';
import type { ReconfigureRequest } from '@swapless/runtime';
import { writeModel } from '@swapless/tflite';
import { buildZooModel } from '@swapless/zoo';
import { describe, expect, it, vi } from 'vitest';
import { parseServeArgs, SERVE_HELP } from './args.js';
import { loadConfig, parseConfig, type ServerConfigInput } from './config.js';
import { type RunningServer, startServer } from './server.js';
import { testServerConfig, useServerWork } from './test-support.js';

// Two CNNs the Edge TPU runs much faster than one core of this host, even paying a reload at every turn:
// `swapless` plans both whole on the TPU, compiled alone (they reload each other); `swapless+` co-compiles them.
const files = useServerWork('liveplus', {
  effs1: writeModel(buildZooModel('efficientnet_edgetpu_s', { seed: 1 })),
  effs2: writeModel(buildZooModel('efficientnet_edgetpu_s', { seed: 2 })),
});

function config(policy: ServerConfigInput['policy']): ServerConfigInput {
  return {
    ...testServerConfig(files.work(), files.repo()),
    policy,
    // One core for the CPU stages: a model moved to the CPU would cost more than the reloads.
    cores: 1,
    mode: 'timing-only',
    // No tick during the test: the initial plan serves the whole request sequence.
    tickMs: 3_600_000,
    bodyLimit: 4 << 20,
    logLevel: 'silent',
    tenants: [
      { name: 'a', model: 'effs1', rate: 20 },
      { name: 'b', model: 'effs2', rate: 20 },
    ],
  };
}

async function get<T>(server: RunningServer, path: string): Promise<T> {
  const res = await fetch(`${server.urls.base}${path}`);
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

/** The same request sequence for every server: the two tenants take turns, one request at a time, over HTTP. */
async function takeTurns(server: RunningServer, n: number): Promise<void> {
  const body = JSON.stringify({
    inputs: [
      { name: 'input', datatype: 'INT8', shape: [1, 224, 224, 3], data: new Array(224 * 224 * 3).fill(0) },
    ],
  });
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${server.urls.api}/models/${i % 2 === 0 ? 'a' : 'b'}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(200);
  }
}

interface Status {
  policy: string;
  sets: string[][];
  discipline: TpuDiscipline;
}

describe('policy swapless+ in the config', () => {
  it('is accepted from the config file, the environment and --policy, and listed by --help', async () => {
    expect(parseConfig({ policy: 'swapless+' }, { source: 'test' }).config.policy).toBe('swapless+');
    expect((await loadConfig(undefined, { SWAPLESS_POLICY: 'swapless+' })).config.policy).toBe('swapless+');
    expect(parseServeArgs(['--policy', 'swapless+']).overrides).toMatchObject({ policy: 'swapless+' });
    expect(SERVE_HELP).toMatch(/--policy P +swapless \| swapless\+ \| default/);
  });
});

describe('policy swapless+ on a live server', () => {
  it('co-compiles the two heads into one set: their turns reload the device less than under swapless', async () => {
    const reloads: Record<string, number> = {};
    for (const policy of ['swapless+', 'swapless'] as const) {
      const server = await startServer(config(policy), {
        progress: false,
        service: { emulator: { timeScale: 0 } },
      });
      try {
        expect(server.failed).toEqual([]);
        const status = await get<Status>(server, '/api/v1/controller');
        const { history } = await get<{ history: Decision[] }>(server, '/api/v1/controller/history');
        if (policy === 'swapless+') {
          // One set of both heads, in force and in the decision that put it there.
          expect(status.sets.map((s) => [...s].sort())).toEqual([['a', 'b']]);
          expect(history.at(-1)!.sets).toEqual(status.sets);
          const metrics = await (await fetch(server.urls.metrics)).text();
          const set = status.sets[0]!.join('+');
          expect(metrics).toContain(`swapless_tenant_head_set_info{tenant="a",set="${set}"} 1`);
          expect(metrics).toContain(`swapless_tenant_head_set_info{tenant="b",set="${set}"} 1`);
          const dashboard = await get<{ controller: Status }>(server, '/dashboard/data');
          expect(dashboard.controller.sets).toEqual(status.sets);
        } else {
          expect(status.sets).toEqual([]);
          expect(history.at(-1)!.sets).toEqual([]);
        }
        // Both heads on the Edge TPU under either policy: the turns are the Edge TPU's to make.
        expect(['a', 'b'].map((n) => server.service.runtime.choice(n).k > 0)).toEqual([true, true]);
        expect(status.discipline).toBeDefined();
        const before = server.service.runtime.stats().devices[0]!.reloads;
        await takeTurns(server, 40);
        reloads[policy] = server.service.runtime.stats().devices[0]!.reloads - before;
      } finally {
        await server.close();
      }
    }
    // Separately compiled heads taking turns reload on (nearly) every call; in one set, never after the first.
    expect(reloads.swapless).toBeGreaterThanOrEqual(30);
    expect(reloads['swapless+']).toBeLessThanOrEqual(1);
  }, 240_000);

  it('applies a decision that only changes the Edge TPU discipline, and shows it', async () => {
    const budget: TpuDiscipline = { kind: 'switch-aware', maxExtraWaitMs: 4 };
    let armed = false;
    const server = await startServer(
      { ...config('swapless+'), tickMs: 100 },
      {
        progress: false,
        service: { emulator: { timeScale: 0 }, policy: () => disciplinePolicy(budget, () => armed) },
      },
    );
    try {
      const calls: ReconfigureRequest[] = [];
      const runtime = server.service.runtime;
      const reconfigure = runtime.reconfigure.bind(runtime);
      vi.spyOn(runtime, 'reconfigure').mockImplementation((d) => {
        calls.push(d);
        return reconfigure(d);
      });
      const choices = () => ['a', 'b'].map((n) => runtime.choice(n));
      const start = choices();
      let status = await get<Status>(server, '/api/v1/controller');
      expect(status.discipline).toBe('fifo');
      armed = true;
      while (status.discipline === 'fifo') {
        await new Promise((resolve) => setTimeout(resolve, 50));
        status = await get<Status>(server, '/api/v1/controller');
      }
      expect(status.discipline).toEqual(budget);
      expect(status.sets).toEqual([]);
      // It reached the runtime, with every tenant's choice unchanged.
      expect(calls).toHaveLength(1);
      expect(calls[0]!.discipline).toEqual(budget);
      expect(choices()).toEqual(start);
      const { history } = await get<{ history: (Decision & { trigger: string; applied: boolean })[] }>(
        server,
        '/api/v1/controller/history',
      );
      expect(history.at(-1)).toMatchObject({ trigger: 'tick', applied: true, discipline: budget });
      const metrics = await (await fetch(server.urls.metrics)).text();
      expect(metrics).toContain('swapless_tpu_reorder_budget_seconds 0.004');
    } finally {
      await server.close();
    }
  }, 120_000);
});

/**
 * A scripted policy: both tenants whole on the Edge TPU under FIFO, then at its first tick once `armed()` the same
 * choices under the switch-aware discipline with `budget` (nothing else changes), then nothing.
 */
function disciplinePolicy(budget: TpuDiscipline, armed: () => boolean): Policy {
  let ctx: PolicyContext | null = null;
  let ticked = false;
  const decide = (discipline: TpuDiscipline): Decision => ({
    tenants: ctx!.tenants.map((t) => ({ name: t.name, k: t.catalog.edgetpuPrefix, cores: 0, mode: 'mg1' })),
    predictedMs: Number.NaN,
    reason: discipline === 'fifo' ? 'initial' : 'discipline only',
    ...(discipline === 'fifo' ? {} : { discipline }),
  });
  return {
    name: 'discipline-script',
    initial(c) {
      ctx = c;
      return decide('fifo');
    },
    onTick() {
      if (ticked || !armed()) return null;
      ticked = true;
      return decide(budget);
    },
  };
}
