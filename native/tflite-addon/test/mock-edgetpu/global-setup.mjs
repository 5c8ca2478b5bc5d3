// vitest globalSetup: build the mock Edge TPU library once and hand its path to the tests.
import { buildMockEdgeTpu } from './build-mock.mjs';

/** @param {{ provide: (key: string, value: unknown) => void }} project */
export default function setup(project) {
  project.provide('mockEdgeTpuLibrary', buildMockEdgeTpu());
}
