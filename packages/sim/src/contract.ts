/**
 * The one place the simulator takes the shared system contract from (`packages/queueing/src/system.ts`), so
 * a simulation and a latency-model prediction always describe the same `SystemSetup`.
 */
export type { CpuStage, SystemSetup, TenantSetup, TpuStage } from '@swapless/queueing';
