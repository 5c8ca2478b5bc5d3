/** The structural contract between the KServe routes and whatever runs the models. */
import type { ModelMetadata, TensorArray } from '@swapless/contracts';

/** Response-level parameters (the protocol allows string, number and boolean values). */
export type Parameters = Record<string, string | number | boolean>;

/** What an inference returns: one typed array per model output, in metadata output order. */
export interface BackendResult {
  outputs: TensorArray[];
  /** Copied into the response's `parameters` (e.g. the latency and how it was timed). */
  parameters?: Parameters;
  /**
   * Where the backend's time went, ms, for the statistics (`GET /v2/models/{name}/stats`): waiting in queues
   * (`queueMs`) and running the model (`inferMs`). Without it the whole `infer()` call counts as running the model.
   */
  durations?: { queueMs: number; inferMs: number };
}

/** One entry of `POST /v2/repository/index` (Triton's model repository extension). */
export interface RepositoryIndexEntry {
  name: string;
  version?: string;
  /** Triton's states: `READY`, `UNAVAILABLE`, `LOADING`, `UNLOADING`. */
  state: 'READY' | 'UNAVAILABLE' | 'LOADING' | 'UNLOADING';
  /** Why the model is in that state (empty when ready). */
  reason: string;
}

/** Per-request facts the routes pass to {@link InferenceBackend.infer}. */
export interface InferCallOptions {
  /**
   * When the answer stops being useful, on the `performance.now()` clock (ms): the routes' `deadlineMs` after
   * the request arrived, shortened by the request's `parameters.timeout`. Absent: no deadline.
   */
  deadlineMs?: number;
}

/**
 * What the routes need from the inference side. `infer` receives one typed array per model input, in metadata
 * input order, of the datatype's array type (see `arrayTypeOf`) and exactly the element count of the shape;
 * the arrays are the backend's to keep. Errors it throws are mapped to statuses by their stable `code`
 * (see `httpStatusOf`): a backend that honours deadlines refuses a request it cannot finish in time with
 * `OverloadedError` (503) and drops one that ran out of time while queued with `DeadlineExceededError` (504).
 */
export interface InferenceBackend {
  isLive(): boolean;
  isReady(): boolean;
  modelNames(): string[];
  modelMetadata(name: string): ModelMetadata | undefined;
  isModelReady(name: string): boolean;
  infer(name: string, inputs: TensorArray[], options?: InferCallOptions): Promise<BackendResult>;
  /**
   * Optional, cheap: throws (e.g. `OverloadedError`) when a request for `name` arriving now could not finish by
   * `deadlineMs` (`performance.now()` clock). The routes call it before they read a request's body, so a
   * request that would be refused anyway costs no parsing.
   */
  admit?(name: string, deadlineMs: number): void;
  /**
   * Optional, cheap: told after each successful inference how long the server held the request, ms — from its
   * arrival (before the body was read) until the response was handed to the socket — with the backend's own
   * result, so a backend can learn what the HTTP front end adds to its own time (body read, decode, encode, write,
   * queueing). Not called when the client went away before the response was written. Errors it throws are
   * ignored.
   */
  onServed?(name: string, serverMs: number, result: BackendResult): void;
  /**
   * Every model the repository has, served or not, for `POST /v2/repository/index` (optional: without it the
   * index lists the served models).
   */
  repositoryIndex?(): RepositoryIndexEntry[] | Promise<RepositoryIndexEntry[]>;
}
