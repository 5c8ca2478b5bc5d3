/**
 * The zoo's network definitions: each function lays out one published architecture op by op on a
 * {@link GraphBuilder}, with the layer shapes, strides, paddings, branches and residuals of the reference
 * implementation named in its comment, as the TFLite converter emits the trained model: batch norm folded into
 * the preceding convolution (its bias), ReLU/ReLU6 fused, dropout gone (inference), explicit zero padding kept
 * as PAD where the reference uses ZeroPadding2D / conv2d_same. Internal to the package: the registry
 * (registry.ts) and {@link buildZooModel} are the public entry points.
 */
import type { FusedActivation, GraphBuilder, Padding, Size2, TensorHandle } from '@swapless/int8-builder';

/**
 * Builds one architecture on `b` for a square input of `size` pixels; returns the softmax output. `depth` is
 * the width (depth) multiplier of the architectures that define one (MobileNet v1); the others ignore it.
 */
export type ArchitectureFn = (b: GraphBuilder, size: number, depth?: number) => TensorHandle;

interface ConvOptions {
  stride?: Size2;
  padding?: Padding;
  activation?: FusedActivation;
}

/** conv + folded batch norm + fused activation (ReLU unless said otherwise), the unit of every CNN here. */
function conv(
  b: GraphBuilder,
  x: TensorHandle,
  name: string,
  filters: number,
  kernel: Size2,
  options: ConvOptions = {},
): TensorHandle {
  return b.conv2d(x, {
    name,
    filters,
    kernel,
    stride: options.stride ?? 1,
    padding: options.padding ?? 'same',
    activation: options.activation ?? 'relu',
  });
}

/** Global average pooling as a VALID AVERAGE_POOL_2D over the whole map (TF-slim's logits head). */
function globalAvgPool(b: GraphBuilder, x: TensorHandle, name: string): TensorHandle {
  const [, h, w] = x.shape;
  return b.avgPool2d(x, { name, size: [h!, w!], stride: 1, padding: 'valid' });
}

/** TF-slim's logits head: [1,1,1,C] → 1×1 conv (bias, no activation) → squeeze to [1, classes] → softmax. */
function slimLogits(b: GraphBuilder, pooled: TensorHandle, scope: string, classes: number): TensorHandle {
  const logits = b.conv2d(pooled, { name: `${scope}/Conv2d_1c_1x1`, filters: classes, kernel: 1 });
  const squeezed = b.reshape(logits, [1, classes], { name: `${scope}/SpatialSqueeze` });
  return b.softmax(squeezed, { name: 'Predictions' });
}

/** Keras' head: global average pooling (MEAN) → dense (bias) → softmax. */
function kerasHead(b: GraphBuilder, x: TensorHandle, classes: number): TensorHandle {
  const pooled = b.mean(x, { name: 'avg_pool' });
  const logits = b.fullyConnected(pooled, { name: 'predictions', units: classes });
  return b.softmax(logits, { name: 'predictions/Softmax' });
}

/** Symmetric zero padding of the spatial axes (Keras ZeroPadding2D, TF-slim conv2d_same). */
function pad2d(b: GraphBuilder, x: TensorHandle, name: string, p: number): TensorHandle {
  return b.pad(
    x,
    [
      [0, 0],
      [p, p],
      [p, p],
      [0, 0],
    ],
    { name },
  );
}

// ---------------------------------------------------------------------------------------------------------------
// MobileNet v1 1.0 — TF-slim mobilenet_v1.py (Coral's mobilenet_v1_1.0_224), 1001 classes.

const MOBILENET_V1_LAYERS: readonly (readonly [number, number])[] = [
  // [stride, pointwise filters] of the 13 depthwise-separable layers.
  [1, 64],
  [2, 128],
  [1, 128],
  [2, 256],
  [1, 256],
  [2, 512],
  [1, 512],
  [1, 512],
  [1, 512],
  [1, 512],
  [1, 512],
  [2, 1024],
  [1, 1024],
];

/**
 * MobileNet v1 (TF-slim layout, 1001 classes); `depth` is TF-slim's depth_multiplier (1.0, 0.75, 0.5, 0.25):
 * every conv's filters become max(⌊filters · depth⌋, 8), the logits keep 1001.
 */
export const mobilenetV1: ArchitectureFn = (b, size, depth = 1) => {
  const d = (filters: number): number => Math.max(Math.floor(filters * depth), 8);
  let x = b.input('input', [1, size, size, 3]);
  x = conv(b, x, 'MobilenetV1/Conv2d_0', d(32), 3, { stride: 2, activation: 'relu6' });
  MOBILENET_V1_LAYERS.forEach(([stride, filters], i) => {
    const s = `MobilenetV1/Conv2d_${i + 1}`;
    x = b.depthwiseConv2d(x, { name: `${s}_depthwise`, kernel: 3, stride, activation: 'relu6' });
    x = conv(b, x, `${s}_pointwise`, d(filters), 1, { activation: 'relu6' });
  });
  return slimLogits(b, globalAvgPool(b, x, 'MobilenetV1/Logits/AvgPool_1a'), 'MobilenetV1/Logits', 1001);
};

// ---------------------------------------------------------------------------------------------------------------
// MobileNet v2 1.0 — TF-slim mobilenet/mobilenet_v2.py (Coral's mobilenet_v2_1.0_224), 1001 classes.

const MOBILENET_V2_STAGES: readonly (readonly [number, number, number, number])[] = [
  // [expansion t, output channels c, repeats n, first stride s] (paper Table 2).
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

/** MobileNet v2 1.0 (TF-slim layout, 1001 classes). */
export const mobilenetV2: ArchitectureFn = (b, size) => {
  let x = b.input('input', [1, size, size, 3]);
  x = conv(b, x, 'MobilenetV2/Conv', 32, 3, { stride: 2, activation: 'relu6' });
  // expanded_conv: t = 1, no expansion.
  x = b.depthwiseConv2d(x, { name: 'MobilenetV2/expanded_conv/depthwise', kernel: 3, activation: 'relu6' });
  x = conv(b, x, 'MobilenetV2/expanded_conv/project', 16, 1, { activation: 'none' });
  let block = 1;
  for (const [t, c, n, s] of MOBILENET_V2_STAGES) {
    for (let i = 0; i < n; i++) {
      const scope = `MobilenetV2/expanded_conv_${block++}`;
      const stride = i === 0 ? s : 1;
      const inC = x.shape[3]!;
      let y = conv(b, x, `${scope}/expand`, inC * t, 1, { activation: 'relu6' });
      y = b.depthwiseConv2d(y, { name: `${scope}/depthwise`, kernel: 3, stride, activation: 'relu6' });
      y = conv(b, y, `${scope}/project`, c, 1, { activation: 'none' });
      x = stride === 1 && inC === c ? b.add(y, x, { name: `${scope}/add` }) : y;
    }
  }
  x = conv(b, x, 'MobilenetV2/Conv_1', 1280, 1, { activation: 'relu6' });
  return slimLogits(b, globalAvgPool(b, x, 'MobilenetV2/Logits/AvgPool'), 'MobilenetV2/Logits', 1001);
};

// ---------------------------------------------------------------------------------------------------------------
// SqueezeNet 1.0 — torchvision squeezenet1_0 (Iandola et al. 2016, Table 1 layer sizes), 1000 classes.

function fire(b: GraphBuilder, x: TensorHandle, name: string, s: number, e: number): TensorHandle {
  const sq = conv(b, x, `${name}/squeeze1x1`, s, 1);
  const e1 = conv(b, sq, `${name}/expand1x1`, e, 1);
  const e3 = conv(b, sq, `${name}/expand3x3`, e, 3);
  return b.concatenation([e1, e3], { name: `${name}/concat`, axis: 3 });
}

/** SqueezeNet 1.0 (torchvision layout, 1000 classes). */
export const squeezenet: ArchitectureFn = (b, size) => {
  let x = b.input('input', [1, size, size, 3]);
  x = conv(b, x, 'conv1', 96, 7, { stride: 2, padding: 'valid' });
  // torchvision pools with ceil_mode=True; VALID or SAME reproduces its output sizes (109→54→27→13 at 224).
  const ceilPool = (t: TensorHandle, name: string): TensorHandle => {
    const h = t.shape[1]!;
    const padding: Padding = (h - 3) % 2 === 0 ? 'valid' : 'same';
    return b.maxPool2d(t, { name, size: 3, stride: 2, padding });
  };
  x = ceilPool(x, 'maxpool1');
  x = fire(b, x, 'fire2', 16, 64);
  x = fire(b, x, 'fire3', 16, 64);
  x = fire(b, x, 'fire4', 32, 128);
  x = ceilPool(x, 'maxpool4');
  x = fire(b, x, 'fire5', 32, 128);
  x = fire(b, x, 'fire6', 48, 192);
  x = fire(b, x, 'fire7', 48, 192);
  x = fire(b, x, 'fire8', 64, 256);
  x = ceilPool(x, 'maxpool8');
  x = fire(b, x, 'fire9', 64, 256);
  x = conv(b, x, 'conv10', 1000, 1);
  const pooled = globalAvgPool(b, x, 'avgpool10');
  return b.softmax(b.reshape(pooled, [1, 1000], { name: 'flatten' }), { name: 'softmax' });
};

// ---------------------------------------------------------------------------------------------------------------
// Inception v1 (GoogLeNet with batch norm) — TF-slim inception_v1.py (Coral's inception_v1_224): no LRN,
// BN after every conv, and, as in that implementation, 3×3 convolutions in the "5×5" branch. 1001 classes.

function inceptionV1Module(
  b: GraphBuilder,
  x: TensorHandle,
  scope: string,
  [c1, c3r, c3, c5r, c5, cp]: readonly number[],
): TensorHandle {
  const b0 = conv(b, x, `${scope}/Branch_0/Conv2d_0a_1x1`, c1!, 1);
  let b1 = conv(b, x, `${scope}/Branch_1/Conv2d_0a_1x1`, c3r!, 1);
  b1 = conv(b, b1, `${scope}/Branch_1/Conv2d_0b_3x3`, c3!, 3);
  let b2 = conv(b, x, `${scope}/Branch_2/Conv2d_0a_1x1`, c5r!, 1);
  b2 = conv(b, b2, `${scope}/Branch_2/Conv2d_0b_3x3`, c5!, 3);
  let b3 = b.maxPool2d(x, { name: `${scope}/Branch_3/MaxPool_0a_3x3`, size: 3, stride: 1, padding: 'same' });
  b3 = conv(b, b3, `${scope}/Branch_3/Conv2d_0b_1x1`, cp!, 1);
  return b.concatenation([b0, b1, b2, b3], { name: `${scope}/concat`, axis: 3 });
}

/** Inception v1 with batch norm (TF-slim layout, 1001 classes). */
export const inceptionV1: ArchitectureFn = (b, size) => {
  const s = 'InceptionV1';
  let x = b.input('input', [1, size, size, 3]);
  x = conv(b, x, `${s}/Conv2d_1a_7x7`, 64, 7, { stride: 2 });
  x = b.maxPool2d(x, { name: `${s}/MaxPool_2a_3x3`, size: 3, stride: 2, padding: 'same' });
  x = conv(b, x, `${s}/Conv2d_2b_1x1`, 64, 1);
  x = conv(b, x, `${s}/Conv2d_2c_3x3`, 192, 3);
  x = b.maxPool2d(x, { name: `${s}/MaxPool_3a_3x3`, size: 3, stride: 2, padding: 'same' });
  x = inceptionV1Module(b, x, `${s}/Mixed_3b`, [64, 96, 128, 16, 32, 32]);
  x = inceptionV1Module(b, x, `${s}/Mixed_3c`, [128, 128, 192, 32, 96, 64]);
  x = b.maxPool2d(x, { name: `${s}/MaxPool_4a_3x3`, size: 3, stride: 2, padding: 'same' });
  x = inceptionV1Module(b, x, `${s}/Mixed_4b`, [192, 96, 208, 16, 48, 64]);
  x = inceptionV1Module(b, x, `${s}/Mixed_4c`, [160, 112, 224, 24, 64, 64]);
  x = inceptionV1Module(b, x, `${s}/Mixed_4d`, [128, 128, 256, 24, 64, 64]);
  x = inceptionV1Module(b, x, `${s}/Mixed_4e`, [112, 144, 288, 32, 64, 64]);
  x = inceptionV1Module(b, x, `${s}/Mixed_4f`, [256, 160, 320, 32, 128, 128]);
  x = b.maxPool2d(x, { name: `${s}/MaxPool_5a_2x2`, size: 2, stride: 2, padding: 'same' });
  x = inceptionV1Module(b, x, `${s}/Mixed_5b`, [256, 160, 320, 32, 128, 128]);
  x = inceptionV1Module(b, x, `${s}/Mixed_5c`, [384, 192, 384, 48, 128, 128]);
  return slimLogits(b, globalAvgPool(b, x, `${s}/Logits/AvgPool_0a_7x7`), `${s}/Logits`, 1001);
};

// ---------------------------------------------------------------------------------------------------------------
// Inception v3 — keras.applications.InceptionV3 (Szegedy et al. 2016, Figures 5–7 modules), 1000 classes.

function avgPool3(b: GraphBuilder, x: TensorHandle, name: string): TensorHandle {
  return b.avgPool2d(x, { name, size: 3, stride: 1, padding: 'same' });
}

function maxPool3s2(b: GraphBuilder, x: TensorHandle, name: string): TensorHandle {
  return b.maxPool2d(x, { name, size: 3, stride: 2, padding: 'valid' });
}

/** Inception v3 (Keras layout, 1000 classes). */
export const inceptionV3: ArchitectureFn = (b, size) => {
  let x = b.input('input', [1, size, size, 3]);
  x = conv(b, x, 'conv2d', 32, 3, { stride: 2, padding: 'valid' });
  x = conv(b, x, 'conv2d_1', 32, 3, { padding: 'valid' });
  x = conv(b, x, 'conv2d_2', 64, 3);
  x = maxPool3s2(b, x, 'max_pooling2d');
  x = conv(b, x, 'conv2d_3', 80, 1, { padding: 'valid' });
  x = conv(b, x, 'conv2d_4', 192, 3, { padding: 'valid' });
  x = maxPool3s2(b, x, 'max_pooling2d_1');
  // mixed0–2: 35×35 modules (Figure 5).
  [32, 64, 64].forEach((poolProj, i) => {
    const m = `mixed${i}`;
    const b1 = conv(b, x, `${m}/branch1x1`, 64, 1);
    let b5 = conv(b, x, `${m}/branch5x5_1`, 48, 1);
    b5 = conv(b, b5, `${m}/branch5x5_2`, 64, 5);
    let bd = conv(b, x, `${m}/branch3x3dbl_1`, 64, 1);
    bd = conv(b, bd, `${m}/branch3x3dbl_2`, 96, 3);
    bd = conv(b, bd, `${m}/branch3x3dbl_3`, 96, 3);
    const bp = conv(b, avgPool3(b, x, `${m}/branch_pool_avg`), `${m}/branch_pool`, poolProj, 1);
    x = b.concatenation([b1, b5, bd, bp], { name: m, axis: 3 });
  });
  // mixed3: 35 → 17 reduction.
  {
    const b3 = conv(b, x, 'mixed3/branch3x3', 384, 3, { stride: 2, padding: 'valid' });
    let bd = conv(b, x, 'mixed3/branch3x3dbl_1', 64, 1);
    bd = conv(b, bd, 'mixed3/branch3x3dbl_2', 96, 3);
    bd = conv(b, bd, 'mixed3/branch3x3dbl_3', 96, 3, { stride: 2, padding: 'valid' });
    const bp = maxPool3s2(b, x, 'mixed3/branch_pool');
    x = b.concatenation([b3, bd, bp], { name: 'mixed3', axis: 3 });
  }
  // mixed4–7: 17×17 modules with factorized 7×7 (Figure 6).
  [128, 160, 160, 192].forEach((c7, j) => {
    const m = `mixed${4 + j}`;
    const b1 = conv(b, x, `${m}/branch1x1`, 192, 1);
    let b7 = conv(b, x, `${m}/branch7x7_1`, c7, 1);
    b7 = conv(b, b7, `${m}/branch7x7_2`, c7, [1, 7]);
    b7 = conv(b, b7, `${m}/branch7x7_3`, 192, [7, 1]);
    let bd = conv(b, x, `${m}/branch7x7dbl_1`, c7, 1);
    bd = conv(b, bd, `${m}/branch7x7dbl_2`, c7, [7, 1]);
    bd = conv(b, bd, `${m}/branch7x7dbl_3`, c7, [1, 7]);
    bd = conv(b, bd, `${m}/branch7x7dbl_4`, c7, [7, 1]);
    bd = conv(b, bd, `${m}/branch7x7dbl_5`, 192, [1, 7]);
    const bp = conv(b, avgPool3(b, x, `${m}/branch_pool_avg`), `${m}/branch_pool`, 192, 1);
    x = b.concatenation([b1, b7, bd, bp], { name: m, axis: 3 });
  });
  // mixed8: 17 → 8 reduction.
  {
    let b3 = conv(b, x, 'mixed8/branch3x3_1', 192, 1);
    b3 = conv(b, b3, 'mixed8/branch3x3_2', 320, 3, { stride: 2, padding: 'valid' });
    let b7 = conv(b, x, 'mixed8/branch7x7x3_1', 192, 1);
    b7 = conv(b, b7, 'mixed8/branch7x7x3_2', 192, [1, 7]);
    b7 = conv(b, b7, 'mixed8/branch7x7x3_3', 192, [7, 1]);
    b7 = conv(b, b7, 'mixed8/branch7x7x3_4', 192, 3, { stride: 2, padding: 'valid' });
    const bp = maxPool3s2(b, x, 'mixed8/branch_pool');
    x = b.concatenation([b3, b7, bp], { name: 'mixed8', axis: 3 });
  }
  // mixed9–10: 8×8 modules with expanded filter banks (Figure 7).
  for (const i of [9, 10]) {
    const m = `mixed${i}`;
    const b1 = conv(b, x, `${m}/branch1x1`, 320, 1);
    const b3 = conv(b, x, `${m}/branch3x3`, 384, 1);
    const b3a = conv(b, b3, `${m}/branch3x3_1x3`, 384, [1, 3]);
    const b3b = conv(b, b3, `${m}/branch3x3_3x1`, 384, [3, 1]);
    const b3c = b.concatenation([b3a, b3b], { name: `${m}/branch3x3_concat`, axis: 3 });
    let bd = conv(b, x, `${m}/branch3x3dbl_1`, 448, 1);
    bd = conv(b, bd, `${m}/branch3x3dbl_2`, 384, 3);
    const bda = conv(b, bd, `${m}/branch3x3dbl_1x3`, 384, [1, 3]);
    const bdb = conv(b, bd, `${m}/branch3x3dbl_3x1`, 384, [3, 1]);
    const bdc = b.concatenation([bda, bdb], { name: `${m}/branch3x3dbl_concat`, axis: 3 });
    const bp = conv(b, avgPool3(b, x, `${m}/branch_pool_avg`), `${m}/branch_pool`, 192, 1);
    x = b.concatenation([b1, b3c, bdc, bp], { name: m, axis: 3 });
  }
  return kerasHead(b, x, 1000);
};

// ---------------------------------------------------------------------------------------------------------------
// Inception v4 — TF-slim inception_v4.py (Szegedy et al. 2017, Figures 3–8), no aux logits, 1001 classes.

/** Inception v4 (TF-slim layout, 1001 classes). */
export const inceptionV4: ArchitectureFn = (b, size) => {
  const s = 'InceptionV4';
  const v = { padding: 'valid' as const };
  const v2 = { stride: 2, padding: 'valid' as const };
  let x = b.input('input', [1, size, size, 3]);
  // Stem (Figure 3).
  x = conv(b, x, `${s}/Conv2d_1a_3x3`, 32, 3, v2);
  x = conv(b, x, `${s}/Conv2d_2a_3x3`, 32, 3, v);
  x = conv(b, x, `${s}/Conv2d_2b_3x3`, 64, 3);
  {
    const m = `${s}/Mixed_3a`;
    const b0 = maxPool3s2(b, x, `${m}/Branch_0/MaxPool_0a_3x3`);
    const b1 = conv(b, x, `${m}/Branch_1/Conv2d_0a_3x3`, 96, 3, v2);
    x = b.concatenation([b0, b1], { name: `${m}/concat`, axis: 3 });
  }
  {
    const m = `${s}/Mixed_4a`;
    let b0 = conv(b, x, `${m}/Branch_0/Conv2d_0a_1x1`, 64, 1);
    b0 = conv(b, b0, `${m}/Branch_0/Conv2d_1a_3x3`, 96, 3, v);
    let b1 = conv(b, x, `${m}/Branch_1/Conv2d_0a_1x1`, 64, 1);
    b1 = conv(b, b1, `${m}/Branch_1/Conv2d_0b_1x7`, 64, [1, 7]);
    b1 = conv(b, b1, `${m}/Branch_1/Conv2d_0c_7x1`, 64, [7, 1]);
    b1 = conv(b, b1, `${m}/Branch_1/Conv2d_1a_3x3`, 96, 3, v);
    x = b.concatenation([b0, b1], { name: `${m}/concat`, axis: 3 });
  }
  {
    const m = `${s}/Mixed_5a`;
    const b0 = conv(b, x, `${m}/Branch_0/Conv2d_1a_3x3`, 192, 3, v2);
    const b1 = maxPool3s2(b, x, `${m}/Branch_1/MaxPool_1a_3x3`);
    x = b.concatenation([b0, b1], { name: `${m}/concat`, axis: 3 });
  }
  // 4 × Inception-A (Figure 4), 35×35.
  for (const l of 'bcde') {
    const m = `${s}/Mixed_5${l}`;
    const b0 = conv(b, x, `${m}/Branch_0/Conv2d_0a_1x1`, 96, 1);
    let b1 = conv(b, x, `${m}/Branch_1/Conv2d_0a_1x1`, 64, 1);
    b1 = conv(b, b1, `${m}/Branch_1/Conv2d_0b_3x3`, 96, 3);
    let b2 = conv(b, x, `${m}/Branch_2/Conv2d_0a_1x1`, 64, 1);
    b2 = conv(b, b2, `${m}/Branch_2/Conv2d_0b_3x3`, 96, 3);
    b2 = conv(b, b2, `${m}/Branch_2/Conv2d_0c_3x3`, 96, 3);
    const b3 = conv(b, avgPool3(b, x, `${m}/Branch_3/AvgPool_0a_3x3`), `${m}/Branch_3/Conv2d_0b_1x1`, 96, 1);
    x = b.concatenation([b0, b1, b2, b3], { name: `${m}/concat`, axis: 3 });
  }
  // Reduction-A (Figure 7; k, l, m, n = 192, 224, 256, 384).
  {
    const m = `${s}/Mixed_6a`;
    const b0 = conv(b, x, `${m}/Branch_0/Conv2d_1a_3x3`, 384, 3, v2);
    let b1 = conv(b, x, `${m}/Branch_1/Conv2d_0a_1x1`, 192, 1);
    b1 = conv(b, b1, `${m}/Branch_1/Conv2d_0b_3x3`, 224, 3);
    b1 = conv(b, b1, `${m}/Branch_1/Conv2d_1a_3x3`, 256, 3, v2);
    const b2 = maxPool3s2(b, x, `${m}/Branch_2/MaxPool_1a_3x3`);
    x = b.concatenation([b0, b1, b2], { name: `${m}/concat`, axis: 3 });
  }
  // 7 × Inception-B (Figure 5), 17×17.
  for (const l of 'bcdefgh') {
    const m = `${s}/Mixed_6${l}`;
    const b0 = conv(b, x, `${m}/Branch_0/Conv2d_0a_1x1`, 384, 1);
    let b1 = conv(b, x, `${m}/Branch_1/Conv2d_0a_1x1`, 192, 1);
    b1 = conv(b, b1, `${m}/Branch_1/Conv2d_0b_1x7`, 224, [1, 7]);
    b1 = conv(b, b1, `${m}/Branch_1/Conv2d_0c_7x1`, 256, [7, 1]);
    let b2 = conv(b, x, `${m}/Branch_2/Conv2d_0a_1x1`, 192, 1);
    b2 = conv(b, b2, `${m}/Branch_2/Conv2d_0b_7x1`, 192, [7, 1]);
    b2 = conv(b, b2, `${m}/Branch_2/Conv2d_0c_1x7`, 224, [1, 7]);
    b2 = conv(b, b2, `${m}/Branch_2/Conv2d_0d_7x1`, 224, [7, 1]);
    b2 = conv(b, b2, `${m}/Branch_2/Conv2d_0e_1x7`, 256, [1, 7]);
    const b3 = conv(b, avgPool3(b, x, `${m}/Branch_3/AvgPool_0a_3x3`), `${m}/Branch_3/Conv2d_0b_1x1`, 128, 1);
    x = b.concatenation([b0, b1, b2, b3], { name: `${m}/concat`, axis: 3 });
  }
  // Reduction-B (Figure 8).
  {
    const m = `${s}/Mixed_7a`;
    let b0 = conv(b, x, `${m}/Branch_0/Conv2d_0a_1x1`, 192, 1);
    b0 = conv(b, b0, `${m}/Branch_0/Conv2d_1a_3x3`, 192, 3, v2);
    let b1 = conv(b, x, `${m}/Branch_1/Conv2d_0a_1x1`, 256, 1);
    b1 = conv(b, b1, `${m}/Branch_1/Conv2d_0b_1x7`, 256, [1, 7]);
    b1 = conv(b, b1, `${m}/Branch_1/Conv2d_0c_7x1`, 320, [7, 1]);
    b1 = conv(b, b1, `${m}/Branch_1/Conv2d_1a_3x3`, 320, 3, v2);
    const b2 = maxPool3s2(b, x, `${m}/Branch_2/MaxPool_1a_3x3`);
    x = b.concatenation([b0, b1, b2], { name: `${m}/concat`, axis: 3 });
  }
  // 3 × Inception-C (Figure 6), 8×8.
  for (const l of 'bcd') {
    const m = `${s}/Mixed_7${l}`;
    const b0 = conv(b, x, `${m}/Branch_0/Conv2d_0a_1x1`, 256, 1);
    const b1 = conv(b, x, `${m}/Branch_1/Conv2d_0a_1x1`, 384, 1);
    const b1a = conv(b, b1, `${m}/Branch_1/Conv2d_0b_1x3`, 256, [1, 3]);
    const b1b = conv(b, b1, `${m}/Branch_1/Conv2d_0c_3x1`, 256, [3, 1]);
    const b1c = b.concatenation([b1a, b1b], { name: `${m}/Branch_1/concat`, axis: 3 });
    let b2 = conv(b, x, `${m}/Branch_2/Conv2d_0a_1x1`, 384, 1);
    b2 = conv(b, b2, `${m}/Branch_2/Conv2d_0b_3x1`, 448, [3, 1]);
    b2 = conv(b, b2, `${m}/Branch_2/Conv2d_0c_1x3`, 512, [1, 3]);
    const b2a = conv(b, b2, `${m}/Branch_2/Conv2d_0d_1x3`, 256, [1, 3]);
    const b2b = conv(b, b2, `${m}/Branch_2/Conv2d_0e_3x1`, 256, [3, 1]);
    const b2c = b.concatenation([b2a, b2b], { name: `${m}/Branch_2/concat`, axis: 3 });
    const b3 = conv(b, avgPool3(b, x, `${m}/Branch_3/AvgPool_0a_3x3`), `${m}/Branch_3/Conv2d_0b_1x1`, 256, 1);
    x = b.concatenation([b0, b1c, b2c, b3], { name: `${m}/concat`, axis: 3 });
  }
  const pooled = globalAvgPool(b, x, `${s}/Logits/AvgPool_1a`);
  const flat = b.reshape(pooled, [1, -1], { name: `${s}/Logits/PreLogitsFlatten` });
  const logits = b.fullyConnected(flat, { name: `${s}/Logits/Logits`, units: 1001 });
  return b.softmax(logits, { name: `${s}/Logits/Predictions` });
};

// ---------------------------------------------------------------------------------------------------------------
// ResNet-50 v1 — keras.applications.ResNet50 (He et al. 2016, Table 1; stride in the first 1×1 of a stage),
// 1000 classes.

/** ResNet-50 v1 (Keras layout, 1000 classes). */
export const resnet50V1: ArchitectureFn = (b, size) => {
  let x = b.input('input', [1, size, size, 3]);
  x = pad2d(b, x, 'conv1_pad', 3);
  x = conv(b, x, 'conv1_conv', 64, 7, { stride: 2, padding: 'valid' });
  x = pad2d(b, x, 'pool1_pad', 1);
  x = b.maxPool2d(x, { name: 'pool1_pool', size: 3, stride: 2, padding: 'valid' });
  const stages: readonly (readonly [number, number, number])[] = [
    [64, 3, 1],
    [128, 4, 2],
    [256, 6, 2],
    [512, 3, 2],
  ];
  stages.forEach(([f, blocks, stride1], si) => {
    for (let i = 1; i <= blocks; i++) {
      const p = `conv${si + 2}_block${i}`;
      const stride = i === 1 ? stride1 : 1;
      const shortcut =
        i === 1 ? conv(b, x, `${p}_0_conv`, 4 * f, 1, { stride, padding: 'valid', activation: 'none' }) : x;
      let y = conv(b, x, `${p}_1_conv`, f, 1, { stride, padding: 'valid' });
      y = conv(b, y, `${p}_2_conv`, f, 3);
      y = conv(b, y, `${p}_3_conv`, 4 * f, 1, { activation: 'none' });
      x = b.add(shortcut, y, { name: `${p}_out`, activation: 'relu' });
    }
  });
  return kerasHead(b, x, 1000);
};

// ---------------------------------------------------------------------------------------------------------------
// ResNet-152 v2 — keras.applications.ResNet152V2 (= TF-slim resnet_v2_152: He et al. 2016 "Identity
// Mappings", pre-activation units, stride in the last unit of a stage), 1000 classes. The pre-activation
// batch norms follow residual additions and cannot be folded: they stay as MUL + ADD(ReLU), as converted.

/** ResNet-152 v2, pre-activation (Keras layout, 1000 classes). */
export const resnet152V2: ArchitectureFn = (b, size) => {
  let x = b.input('input', [1, size, size, 3]);
  x = pad2d(b, x, 'conv1_pad', 3);
  x = conv(b, x, 'conv1_conv', 64, 7, { stride: 2, padding: 'valid', activation: 'none' });
  x = pad2d(b, x, 'pool1_pad', 1);
  x = b.maxPool2d(x, { name: 'pool1_pool', size: 3, stride: 2, padding: 'valid' });
  const stacks: readonly (readonly [number, number, number])[] = [
    [64, 3, 2],
    [128, 8, 2],
    [256, 36, 2],
    [512, 3, 1],
  ];
  stacks.forEach(([f, blocks, stride1], si) => {
    for (let i = 1; i <= blocks; i++) {
      const p = `conv${si + 2}_block${i}`;
      const stride = i === blocks ? stride1 : 1;
      const preact = b.batchNorm(x, { name: `${p}_preact_bn`, activation: 'relu' });
      let shortcut: TensorHandle;
      if (i === 1) {
        shortcut = conv(b, preact, `${p}_0_conv`, 4 * f, 1, { stride, activation: 'none' });
      } else if (stride > 1) {
        shortcut = b.maxPool2d(x, { name: `${p}_0_pool`, size: 1, stride, padding: 'valid' });
      } else shortcut = x;
      let y = conv(b, preact, `${p}_1_conv`, f, 1);
      y = pad2d(b, y, `${p}_2_pad`, 1);
      y = conv(b, y, `${p}_2_conv`, f, 3, { stride, padding: 'valid' });
      y = conv(b, y, `${p}_3_conv`, 4 * f, 1, { activation: 'none' });
      x = b.add(shortcut, y, { name: `${p}_out` });
    }
  });
  x = b.batchNorm(x, { name: 'post_bn', activation: 'relu' });
  return kerasHead(b, x, 1000);
};

// ---------------------------------------------------------------------------------------------------------------
// VGG-16 — keras.applications.VGG16 (Simonyan & Zisserman 2015, configuration D), 1000 classes.

/** VGG-16 (Keras layout, 1000 classes). */
export const vgg16: ArchitectureFn = (b, size) => {
  let x = b.input('input', [1, size, size, 3]);
  const blocks: readonly (readonly [number, number])[] = [
    [64, 2],
    [128, 2],
    [256, 3],
    [512, 3],
    [512, 3],
  ];
  blocks.forEach(([filters, convs], bi) => {
    for (let i = 1; i <= convs; i++) x = conv(b, x, `block${bi + 1}_conv${i}`, filters, 3);
    x = b.maxPool2d(x, { name: `block${bi + 1}_pool`, size: 2, stride: 2 });
  });
  x = b.reshape(x, [1, -1], { name: 'flatten' });
  x = b.fullyConnected(x, { name: 'fc1', units: 4096, activation: 'relu' });
  x = b.fullyConnected(x, { name: 'fc2', units: 4096, activation: 'relu' });
  const logits = b.fullyConnected(x, { name: 'predictions', units: 1000 });
  return b.softmax(logits, { name: 'predictions/Softmax' });
};

// ---------------------------------------------------------------------------------------------------------------
// EfficientNet-EdgeTPU S/M/L — tensorflow/tpu models/official/efficientnet/edgetpu (block arguments, width and
// depth coefficients, ReLU, no squeeze-excitation, fused-conv stages "c1"), 1001 classes.

interface EdgeTpuBlock {
  repeats: number;
  kernel: number;
  stride: number;
  expand: number;
  input: number;
  output: number;
  fused: boolean;
  skip: boolean;
}

/** The six block strings of efficientnet_edgetpu_builder.py, decoded. */
const EDGETPU_BLOCKS: readonly EdgeTpuBlock[] = [
  { repeats: 1, kernel: 3, stride: 1, expand: 4, input: 24, output: 24, fused: true, skip: false },
  { repeats: 2, kernel: 3, stride: 2, expand: 8, input: 24, output: 32, fused: true, skip: true },
  { repeats: 4, kernel: 3, stride: 2, expand: 8, input: 32, output: 48, fused: true, skip: true },
  { repeats: 5, kernel: 5, stride: 2, expand: 8, input: 48, output: 96, fused: false, skip: true },
  { repeats: 4, kernel: 5, stride: 1, expand: 8, input: 96, output: 144, fused: false, skip: true },
  { repeats: 2, kernel: 5, stride: 2, expand: 8, input: 144, output: 192, fused: false, skip: true },
];

/** EfficientNet's round_filters: width-scaled, to a multiple of 8, never below 90 % of the scaled value. */
function roundFilters(filters: number, width: number): number {
  const scaled = filters * width;
  let out = Math.max(8, Math.floor((scaled + 4) / 8) * 8);
  if (out < 0.9 * scaled) out += 8;
  return out;
}

function efficientnetEdgeTpu(width: number, depth: number, scope: string): ArchitectureFn {
  return (b, size) => {
    let x = b.input('input', [1, size, size, 3]);
    x = conv(b, x, `${scope}/stem/conv2d`, roundFilters(32, width), 3, { stride: 2 });
    let index = 0;
    for (const blk of EDGETPU_BLOCKS) {
      const repeats = Math.ceil(depth * blk.repeats);
      const output = roundFilters(blk.output, width);
      for (let r = 0; r < repeats; r++) {
        const p = `${scope}/blocks_${index++}`;
        const inputFilters = r === 0 ? roundFilters(blk.input, width) : output;
        const stride = r === 0 ? blk.stride : 1;
        const expanded = inputFilters * blk.expand;
        let y: TensorHandle;
        if (blk.fused) {
          y = conv(b, x, `${p}/conv2d`, expanded, blk.kernel, { stride });
        } else {
          y = conv(b, x, `${p}/conv2d`, expanded, 1);
          y = b.depthwiseConv2d(y, {
            name: `${p}/depthwise_conv2d`,
            kernel: blk.kernel,
            stride,
            activation: 'relu',
          });
        }
        y = conv(b, y, `${p}/project_conv2d`, output, 1, { activation: 'none' });
        x = blk.skip && stride === 1 && x.shape[3] === output ? b.add(y, x, { name: `${p}/add` }) : y;
      }
    }
    x = conv(b, x, `${scope}/head/conv2d`, roundFilters(1280, width), 1);
    const pooled = b.mean(x, { name: `${scope}/head/global_average_pooling2d` });
    const logits = b.fullyConnected(pooled, { name: `${scope}/head/dense`, units: 1001 });
    return b.softmax(logits, { name: 'Softmax' });
  };
}

/** EfficientNet-EdgeTPU-S: width 1.0, depth 1.0 (1001 classes). */
export const efficientnetEdgeTpuS = efficientnetEdgeTpu(1.0, 1.0, 'efficientnet-edgetpu-S');
/** EfficientNet-EdgeTPU-M: width 1.0, depth 1.1 (1001 classes). */
export const efficientnetEdgeTpuM = efficientnetEdgeTpu(1.0, 1.1, 'efficientnet-edgetpu-M');
/** EfficientNet-EdgeTPU-L: width 1.2, depth 1.4 (1001 classes). */
export const efficientnetEdgeTpuL = efficientnetEdgeTpu(1.2, 1.4, 'efficientnet-edgetpu-L');
