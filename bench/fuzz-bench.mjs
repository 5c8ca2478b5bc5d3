// Fuzz bench (run after `npm run build`): `npm run bench:fuzz -- --count N --seed S [--json]`; `--help` lists
// every option.
//
// Mutants of real models (zoo, Coral fixtures, MediaPipe) from bench/fuzz-mutants.mjs go to two targets:
// - reader: readModel (structure + semantic verifier) in worker threads. Every mutant must read or throw a
//   typed SwapLess error; anything else is an "untyped" failure, and a mutant over the time limit (or a worker
//   that stops answering) is a "hang".
// - native: `swapless run FILE --repeat 1 --warmup 0` in long-lived child processes that call the CLI's main()
//   per mutant (bench/fuzz-native-child.mjs). A child killed by a signal is a death of the run process; one
//   over the time limit is killed and counted as a hang. Each mutant is also read in this process to report
//   how many pass the verifier and how many of those still kill the child.
// Every untyped failure, death and hang leaves a reproducer in --out: the mutant file and a JSON with the run
// seed, the mutant index, the source, the mutation and the outcome (plus, for deaths, whether a fresh
// `swapless run` process dies on it alone).

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { isSwapLessError, progressBar, stderrSink } from '@swapless/core';
import { readModel } from '@swapless/tflite';
import { generateMutant, loadFuzzSources, SOURCE_SETS } from './fuzz-mutants.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, '../apps/cli/bin/swapless.js');

const HELP = `Usage: npm run bench:fuzz -- [options]

Feeds seeded mutants of real .tflite models to the reader (in-process) and to \`swapless run\` (child
processes), counts the outcomes and writes a reproducer for every crash, hang or untyped error.

Options:
  --count N            mutants per target (default 1000)
  --reader-count N     mutants for the reader target (default --count)
  --native-count N     mutants for the native target (default --count)
  --seed S             run seed (default 1); mutant i of seed S is always the same file
  --target T           reader, native or all (default all)
  --sources LIST       comma-separated source sets: ${SOURCE_SETS.join(', ')} (default all)
  --max-source-mb M    skip source models larger than M MiB (default 64 reader, 16 native)
  --jobs J             reader worker threads / native child processes (default: available cores)
  --timeout-ms T       per-mutant limit; over it counts as a hang (default 10000 reader, 60000 native)
  --run-args=ARGS      extra arguments for swapless run, e.g. --run-args="--xnnpack off"
  --path P             native path: run (swapless run's default path, default) or unverified
                       (createInterpreter + invoke with no SwapLess verification, to measure the verifier)
  --only-passing       native: run only mutants the verifier accepts (count = such mutants)
  --out DIR            where reproducers go (default <tmpdir>/swapless-fuzz-<seed>)
  --json               print the result as one JSON document on stdout
  -h, --help           show this help`;

const { values: opts } = parseArgsOrExit({
  options: {
    count: { type: 'string' },
    'reader-count': { type: 'string' },
    'native-count': { type: 'string' },
    seed: { type: 'string' },
    target: { type: 'string' },
    sources: { type: 'string' },
    'max-source-mb': { type: 'string' },
    jobs: { type: 'string' },
    'timeout-ms': { type: 'string' },
    'run-args': { type: 'string' },
    path: { type: 'string' },
    'only-passing': { type: 'boolean' },
    out: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
/** parseArgs, with a usage error (exit 2) instead of a stack trace. */
function parseArgsOrExit(config) {
  try {
    return parseArgs(config);
  } catch (e) {
    console.error(`fuzz-bench: ${e.message}\n\n${HELP}`);
    process.exit(2);
  }
}

if (opts.help) {
  console.log(HELP);
  process.exit(0);
}

function intOpt(name, fallback, min = 0) {
  const raw = opts[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) {
    console.error(`fuzz-bench: --${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return n;
}
function choiceOpt(name, choices, fallback) {
  const raw = opts[name] ?? fallback;
  if (!choices.includes(raw)) {
    console.error(`fuzz-bench: --${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return raw;
}

const count = intOpt('count', 1000);
const seed = intOpt('seed', 1);
const target = choiceOpt('target', ['reader', 'native', 'all'], 'all');
const nativePath = choiceOpt('path', ['run', 'unverified'], 'run');
const jobs = intOpt('jobs', availableParallelism(), 1);
const sets = (opts.sources ?? SOURCE_SETS.join(',')).split(',').filter(Boolean);
const runArgs = (opts['run-args'] ?? '').split(' ').filter(Boolean);
const outDir = resolve(opts.out ?? join(tmpdir(), `swapless-fuzz-${seed}`));
const json = opts.json === true;
const MIB = 1024 * 1024;

const progress = progressBar(stderrSink);
const log = (line) => {
  progress.done();
  process.stderr.write(`${line}\n`);
};

const tally = (map, key) => {
  map[key] = (map[key] ?? 0) + 1;
};

/** Writes a reproducer: the mutant file and what produced it. Returns the file path. */
function writeReproducer(targetName, mutant, outcome, extra = {}) {
  mkdirSync(outDir, { recursive: true });
  const base = join(outDir, `${targetName}-s${seed}-i${mutant.index}-${outcome}`);
  writeFileSync(`${base}.tflite`, mutant.bytes);
  const info = {
    target: targetName,
    outcome,
    runSeed: seed,
    index: mutant.index,
    mutantSeed: mutant.seed,
    source: mutant.source,
    ...(mutant.other ? { other: mutant.other } : {}),
    mutation: { kind: mutant.kind, position: mutant.position, detail: mutant.detail },
    regenerate: `generateMutant({ seed: ${seed}, index: ${mutant.index}, sources }) from bench/fuzz-mutants.mjs with --sources ${sets.join(',')}`,
    command:
      `node apps/cli/bin/swapless.js run ${base}.tflite --repeat 1 --warmup 0 ${runArgs.join(' ')}`.trim(),
    ...extra,
  };
  writeFileSync(`${base}.json`, `${JSON.stringify(info, null, 2)}\n`);
  return `${base}.tflite`;
}

/** The verifier's verdict on a mutant, read in this process. */
function verdict(bytes) {
  try {
    readModel(bytes);
    return { pass: true };
  } catch (e) {
    if (isSwapLessError(e)) return { pass: false, code: e.code, rule: e.details?.rule };
    return { pass: false, code: 'untyped' };
  }
}

// ---------------------------------------------------------------- reader target

async function readerTarget(sources, n) {
  const timeoutMs = intOpt('timeout-ms', 10_000, 1);
  const result = {
    target: 'reader',
    mutants: n,
    ok: 0,
    rejected: {},
    rules: {},
    untyped: 0,
    hang: 0,
    failures: [],
    byKind: {},
    seconds: 0,
  };
  const started = Date.now();
  const workerFile = join(here, 'fuzz-reader-worker.mjs');
  const workers = Math.min(jobs, Math.max(1, n));
  let done = 0;
  const record = (index, r) => {
    done += 1;
    tally(result.byKind, r.kind);
    if (r.outcome === 'ok') result.ok += 1;
    else if (r.outcome === 'rejected') {
      tally(result.rejected, r.code);
      if (r.rule) tally(result.rules, r.rule);
    } else {
      const mutant = generateMutant({ seed, index, sources });
      result[r.outcome] += 1;
      const file = writeReproducer('reader', mutant, r.outcome, { error: r.error, ms: r.ms });
      result.failures.push({ index, outcome: r.outcome, source: mutant.source, detail: mutant.detail, file });
      log(`reader: ${r.outcome} on mutant ${index} (${mutant.source}: ${mutant.detail}): ${r.error ?? ''}`);
    }
    progress({
      phase: 'reader',
      done,
      total: n,
      label: `ok ${result.ok}, rejected ${done - result.ok - result.untyped - result.hang}, untyped ${result.untyped}, hang ${result.hang}`,
    });
  };

  /** Runs indices start, start + stride, … below n in one worker; restarts past a hung mutant. */
  const lane = (start, stride) =>
    new Promise((resolveLane) => {
      let next = start;
      const launch = () => {
        if (next >= n) return resolveLane();
        const worker = new Worker(workerFile, {
          workerData: {
            seed,
            start: next,
            stride,
            end: n,
            slowMs: timeoutMs,
            sources: sources.map((s) => ({ name: s.name, path: s.path })),
          },
        });
        let timer;
        const arm = () => {
          clearTimeout(timer);
          timer = setTimeout(() => {
            // The worker is stuck inside one mutant: that one is a hang; carry on after it in a new worker.
            const index = next;
            worker.terminate();
            record(index, { outcome: 'hang', kind: 'unknown', error: `no answer within ${timeoutMs} ms` });
            next += stride;
            launch();
          }, timeoutMs * 2);
        };
        arm();
        worker.on('message', (r) => {
          arm();
          record(r.index, r);
          next = r.index + stride;
        });
        worker.on('error', (e) => {
          clearTimeout(timer);
          record(next, { outcome: 'untyped', kind: 'unknown', error: `worker died: ${e.message}` });
          next += stride;
          launch();
        });
        worker.on('exit', () => {
          clearTimeout(timer);
          if (next >= n) resolveLane();
        });
      };
      launch();
    });

  await Promise.all(Array.from({ length: workers }, (_, w) => lane(w, workers)));
  progress.done();
  result.seconds = (Date.now() - started) / 1000;
  return result;
}

// ---------------------------------------------------------------- native target

function nativeTarget(sources, n) {
  const timeoutMs = intOpt('timeout-ms', 60_000, 1);
  const onlyPassing = opts['only-passing'] === true;
  const result = {
    target: 'native',
    path: nativePath,
    runArgs,
    mutants: 0,
    verifier: { passed: 0, rejected: 0 },
    ok: 0,
    typed: {},
    signal: {},
    exited: {},
    hang: 0,
    deathsAmongVerifierPassing: 0,
    deathsAmongVerifierRejected: 0,
    skippedRejected: 0,
    failures: [],
    seconds: 0,
  };
  const started = Date.now();
  const scratch = join(tmpdir(), `swapless-fuzz-native-${process.pid}`);
  mkdirSync(scratch, { recursive: true });
  let nextIndex = 0;
  let finished = 0;

  /** The next mutant to run, or undefined when n have been handed out. */
  const take = () => {
    while (result.mutants < n) {
      const mutant = generateMutant({ seed, index: nextIndex, sources });
      nextIndex += 1;
      const v = verdict(mutant.bytes);
      if (onlyPassing && !v.pass) {
        result.skippedRejected += 1;
        continue;
      }
      result.mutants += 1;
      if (v.pass) result.verifier.passed += 1;
      else result.verifier.rejected += 1;
      return { mutant, verdict: v };
    }
    return undefined;
  };

  const settle = (job, outcome, detail = {}) => {
    finished += 1;
    const { mutant } = job;
    if (outcome === 'ok') result.ok += 1;
    else if (outcome === 'typed') tally(result.typed, detail.code);
    else {
      if (outcome === 'signal') tally(result.signal, detail.signal);
      else if (outcome === 'exited') tally(result.exited, `exit ${detail.exit}`);
      else result.hang += 1;
      if (outcome !== 'hang') {
        if (job.verdict.pass) result.deathsAmongVerifierPassing += 1;
        else result.deathsAmongVerifierRejected += 1;
      }
      const label =
        outcome === 'signal' ? detail.signal : outcome === 'exited' ? `exit${detail.exit}` : 'hang';
      const file = writeReproducer('native', mutant, label, {
        verifier: job.verdict,
        stderrTail: detail.stderr,
      });
      const alone = outcome === 'hang' ? undefined : confirmAlone(file, timeoutMs);
      if (alone !== undefined) {
        const info = `${file.slice(0, -'.tflite'.length)}.json`;
        const saved = JSON.parse(readFileSync(info, 'utf8'));
        writeFileSync(info, `${JSON.stringify({ ...saved, freshProcess: alone }, null, 2)}\n`);
      }
      result.failures.push({
        index: mutant.index,
        outcome: label,
        source: mutant.source,
        kind: mutant.kind,
        detail: mutant.detail,
        verifier: job.verdict.pass ? 'passed' : `rejected (${job.verdict.rule ?? job.verdict.code})`,
        freshProcess: alone,
        file,
      });
      log(
        `native: ${label} on mutant ${mutant.index} (${mutant.source}: ${mutant.detail}; verifier ${job.verdict.pass ? 'passed' : 'rejected'})`,
      );
    }
    const deaths = Object.values(result.signal).reduce((a, b) => a + b, 0);
    progress({
      phase: 'native',
      done: finished,
      total: n,
      label: `ok ${result.ok}, typed ${finished - result.ok - deaths - result.hang}, signal ${deaths}, hang ${result.hang}`,
    });
  };

  /** One child process working through mutants until none are left. */
  const lane = (laneId) =>
    new Promise((resolveLane) => {
      const file = join(scratch, `lane${laneId}.tflite`);
      let child;
      let job;
      let timer;
      let stderr = '';
      let served = 0;
      const spawnChild = () => {
        stderr = '';
        served = 0;
        child = spawn(process.execPath, [join(here, 'fuzz-native-child.mjs'), nativePath], {
          stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        });
        const me = child;
        me.stderr.on('data', (d) => {
          stderr = (stderr + d.toString()).slice(-4000);
        });
        me.on('message', (m) => {
          if (me !== child) return;
          if (m.ready) return next();
          if (job === undefined || m.id !== job.mutant.index) return;
          clearTimeout(timer);
          const done = job;
          job = undefined;
          settle(done, m.code === null ? 'ok' : 'typed', { code: m.code });
          next();
        });
        me.on('exit', (code, signal) => {
          if (me !== child) return;
          clearTimeout(timer);
          if (job !== undefined) {
            const dead = job;
            job = undefined;
            const signalName = signal ?? undefined;
            settle(dead, signalName ? 'signal' : 'exited', {
              signal: signalName,
              exit: code,
              stderr: stderr.slice(-2000),
            });
          }
          child = undefined;
          if (finishedAll) return resolveLane();
          spawnChild();
        });
      };
      let finishedAll = false;
      const next = () => {
        // A fresh child every 500 mutants bounds whatever a long run leaks, and limits how far back a
        // corruption that only shows later could come from.
        if (served >= 500 && child !== undefined) {
          const old = child;
          child = undefined;
          old.removeAllListeners('exit');
          old.kill('SIGKILL');
          return spawnChild();
        }
        job = take();
        if (job === undefined) {
          finishedAll = true;
          child?.kill('SIGKILL');
          return;
        }
        served += 1;
        stderr = '';
        writeFileSync(file, job.mutant.bytes);
        timer = setTimeout(() => {
          const stuck = job;
          job = undefined;
          const old = child;
          child = undefined;
          old.removeAllListeners('exit');
          old.kill('SIGKILL');
          settle(stuck, 'hang', { stderr: stderr.slice(-2000) });
          spawnChild();
        }, timeoutMs);
        child.send({ id: job.mutant.index, file, args: runArgs });
      };
      spawnChild();
    });

  const lanes = Math.min(jobs, Math.max(1, n));
  return Promise.all(Array.from({ length: lanes }, (_, i) => lane(i))).then(() => {
    progress.done();
    rmSync(scratch, { recursive: true, force: true });
    result.seconds = (Date.now() - started) / 1000;
    return result;
  });
}

/** Does a fresh `swapless run` process die on this file alone? (A long-lived child could carry damage.) */
function confirmAlone(file, timeoutMs) {
  const r = spawnSync(process.execPath, [CLI, 'run', file, '--repeat', '1', '--warmup', '0', ...runArgs], {
    timeout: timeoutMs,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (r.signal) return { died: true, signal: r.signal, stderrTail: r.stderr?.toString().slice(-1000) };
  return { died: false, exit: r.status };
}

// ---------------------------------------------------------------- verifier cost

/**
 * readModel with and without the semantic verifier on the largest source and on the one with the most ops,
 * interleaved so both see the same machine load; medians of `reps` reads each.
 */
function verifierCost(sources, reps = 15) {
  const opsOf = (s) =>
    readModel(s.bytes, { verifySemantics: false }).subgraphs.reduce((n, g) => n + g.operators.length, 0);
  const largest = sources.reduce((a, b) => (b.bytes.length > a.bytes.length ? b : a));
  const withOps = sources.map((s) => ({ s, ops: opsOf(s) }));
  const busiest = withOps.reduce((a, b) => (b.ops > a.ops ? b : a)).s;
  const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
  return [...new Set([largest, busiest])].map((s) => {
    const plain = [];
    const verified = [];
    for (let i = 0; i < reps; i += 1) {
      let t0 = performance.now();
      readModel(s.bytes, { verifySemantics: false });
      plain.push(performance.now() - t0);
      t0 = performance.now();
      readModel(s.bytes);
      verified.push(performance.now() - t0);
    }
    const a = median(plain);
    const b = median(verified);
    return {
      source: s.name,
      bytes: s.bytes.length,
      ops: withOps.find((w) => w.s === s).ops,
      structureMs: a,
      verifiedMs: b,
      ratio: b / a,
    };
  });
}

// ---------------------------------------------------------------- report

function lines(result) {
  const out = [];
  const row = (label, value) =>
    out.push(`  ${label.padEnd(44)} ${value.toLocaleString('en-US').padStart(9)}`);
  if (result.target === 'reader') {
    out.push(
      `reader (readModel in ${Math.min(jobs, result.mutants)} worker threads): ${result.mutants.toLocaleString('en-US')} mutants in ${result.seconds.toFixed(1)} s`,
    );
    row('read ok', result.ok);
    for (const [code, c] of Object.entries(result.rejected).sort()) row(`typed rejection ${code}`, c);
    row('untyped exception', result.untyped);
    row('hang', result.hang);
    for (const c of result.verifierCost ?? []) {
      out.push(
        `  readModel ${c.source} (${(c.bytes / MIB).toFixed(1)} MiB, ${c.ops} ops): ${c.structureMs.toFixed(2)} ms structure only, ${c.verifiedMs.toFixed(2)} ms with the semantic verifier (×${c.ratio.toFixed(2)})`,
      );
    }
    const rules = Object.entries(result.rules).sort((a, b) => b[1] - a[1]);
    if (rules.length > 0)
      out.push(`  semantic verifier rejections by rule: ${rules.map(([r, c]) => `${r} ${c}`).join(', ')}`);
  } else {
    const how =
      result.path === 'run'
        ? `swapless run${runArgs.length ? ` ${runArgs.join(' ')}` : ''}`
        : 'unverified createInterpreter + invoke';
    out.push(
      `native (${how}, long-lived child processes): ${result.mutants.toLocaleString('en-US')} mutants in ${result.seconds.toFixed(1)} s`,
    );
    row('verifier (readModel) passed', result.verifier.passed);
    row('verifier (readModel) rejected', result.verifier.rejected);
    if (result.skippedRejected > 0)
      row('skipped (verifier rejected, --only-passing)', result.skippedRejected);
    row('ok', result.ok);
    for (const [code, c] of Object.entries(result.typed).sort()) row(`typed error ${code}`, c);
    for (const [sig, c] of Object.entries(result.signal).sort()) row(`killed by ${sig}`, c);
    if (Object.keys(result.signal).length === 0) row('killed by signal', 0);
    for (const [e, c] of Object.entries(result.exited).sort()) row(`exited without a result (${e})`, c);
    row('hang', result.hang);
    row('deaths among verifier-passing mutants', result.deathsAmongVerifierPassing);
    row('deaths among verifier-rejected mutants', result.deathsAmongVerifierRejected);
  }
  for (const f of result.failures.slice(0, 50)) {
    out.push(
      `    ${f.outcome} #${f.index} ${f.source}: ${f.detail}${f.verifier ? ` [verifier ${f.verifier}]` : ''}`,
    );
  }
  return out;
}

const sourcesFor = (maxMb) => loadFuzzSources({ sets, maxBytes: intOpt('max-source-mb', maxMb, 1) * MIB });

const results = [];
const header = [`fuzz bench: seed ${seed}, sources ${sets.join(', ')}`];
if (target !== 'native') {
  const sources = await sourcesFor(64);
  header.push(`reader sources: ${sources.length} models (${sources.map((s) => s.name).join(', ')})`);
  const reader = await readerTarget(sources, intOpt('reader-count', count));
  // The cost figure covers the largest zoo model too, even when it is above --max-source-mb.
  const zoo = sets.includes('zoo') ? await loadFuzzSources({ sets: ['zoo'] }) : [];
  reader.verifierCost = verifierCost([...sources, ...zoo]);
  results.push(reader);
}
if (target !== 'reader') {
  const sources = await sourcesFor(16);
  header.push(`native sources: ${sources.length} models (${sources.map((s) => s.name).join(', ')})`);
  results.push(await nativeTarget(sources, intOpt('native-count', count)));
}
const reproducers = results.reduce((a, r) => a + r.failures.length, 0);
if (json) {
  console.log(JSON.stringify({ seed, sources: sets, outDir, reproducers, results }, null, 2));
} else {
  console.log([...header, ...results.flatMap(lines), `reproducers: ${reproducers} in ${outDir}`].join('\n'));
}
const bad = results.some(
  (r) => (r.untyped ?? 0) + r.hang + Object.values(r.signal ?? {}).reduce((a, b) => a + b, 0) > 0,
);
process.exitCode = bad ? 1 : 0;
