/**
 * What deadline admission needs to know about a stage: its mean service time. The latency model gives a prior
 * (`Runtime.setServicePrior`, from the controller's prediction) until the runtime has measured the configuration;
 * then an exponentially weighted mean of the measured times takes over, so an estimate follows the device and
 * the CPU as they really are (reloads, a loaded machine) rather than as profiled.
 */

/** Weight of a new sample in the moving mean: about the last 10–20 requests count. */
const ALPHA = 0.1;

/** Mean service time of one stage of one configuration, ms. */
export class StageEstimate {
  /** Current estimate, ms (0 until a prior or a sample arrives: admission is then optimistic). */
  ms = 0;
  /** Samples measured so far (0: the estimate is a prior, or nothing). */
  samples = 0;

  /** Sets the estimate from a model or an earlier configuration, unless this one has been measured. */
  prior(ms: number): void {
    if (this.samples === 0 && Number.isFinite(ms) && ms >= 0) this.ms = ms;
  }

  /** Adds one measured service time. */
  observe(ms: number): void {
    if (!(ms >= 0) || ms === Number.POSITIVE_INFINITY) return;
    this.ms = this.samples === 0 ? ms : this.ms + ALPHA * (ms - this.ms);
    this.samples++;
  }
}

/** Mean service times of a tenant's stages, as a latency model predicts them for its current configuration. */
export interface ServicePrior {
  /** Mean Edge TPU stage time (including the expected reload), ms. */
  tpuMs: number;
  /** Mean CPU stage time, ms. */
  cpuMs: number;
}

/** `12.3` for messages: ms with one decimal below 100, whole ms above. */
export function ms(value: number): string {
  return value < 100 ? value.toFixed(1) : value.toFixed(0);
}
