/**
 * The published CPU-only latencies the `devboard-a53` profile is calibrated on and checked against: Coral's Edge
 * TPU benchmarks page, column "Embedded CPU" (quad Cortex-A53 @ 1.5 GHz, TFLite int8 models, C++ benchmark).
 * Five figures fit the parameters (`calibration`), five other models of the same table are the held-out check
 * (`held-out`, target ±25 %). The models are the zoo's reproductions of the published architectures.
 */
import type { CpuProfileName } from '@swapless/core';

/** One published whole-model CPU latency. */
export interface PublishedCpuFigure {
  /** Zoo model name the figure is compared with. */
  model: string;
  /** The model as the source names it. */
  label: string;
  /** CPU profile the figure is for. */
  cpu: CpuProfileName;
  /** Published latency, ms. */
  ms: number;
  /** Fit the parameters (`calibration`) or only checked (`held-out`). */
  role: 'calibration' | 'held-out';
  source: string;
}

const CORAL = 'https://coral.ai/docs/edgetpu/benchmarks/ (table 1, "Embedded CPU")';

const a53 = (
  model: string,
  label: string,
  ms: number,
  role: PublishedCpuFigure['role'],
): PublishedCpuFigure => Object.freeze({ model, label, cpu: 'devboard-a53', ms, role, source: CORAL });

/** The published figures, calibration set first. */
export const PUBLISHED_CPU_FIGURES: readonly PublishedCpuFigure[] = Object.freeze([
  a53('mobilenet_v1', 'MobileNet v1 (224x224)', 164, 'calibration'),
  a53('mobilenet_v2', 'MobileNet v2 (224x224)', 122, 'calibration'),
  a53('resnet50_v1', 'ResNet-50 V1 (299x299)', 1763, 'calibration'),
  a53('inception_v4', 'Inception v4 (299x299)', 3157, 'calibration'),
  a53('efficientnet_edgetpu_s', 'EfficientNet-EdgeTpu-S', 705, 'calibration'),
  a53('inception_v1', 'Inception v1 (224x224)', 392, 'held-out'),
  a53('squeezenet', 'SqueezeNet (224x224)', 232, 'held-out'),
  a53('resnet152_v2', 'ResNet-152 V2 (299x299)', 5499, 'held-out'),
  a53('vgg16', 'VGG16 (224x224)', 4595, 'held-out'),
  a53('efficientnet_edgetpu_m', 'EfficientNet-EdgeTpu-M', 1081, 'held-out'),
]);

/** Largest relative error allowed on the held-out figures (issue target). */
export const HELD_OUT_TOLERANCE = 0.25;
