// Values the vitest globalSetup provides to the tests.
declare module 'vitest' {
  export interface ProvidedContext {
    /** Absolute path of the mock Edge TPU library built by the global setup. */
    mockEdgeTpuLibrary: string;
  }
}

export {};
