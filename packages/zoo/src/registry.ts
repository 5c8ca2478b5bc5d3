/**
 * The zoo registry: the twelve architectures SwapLess generates, with their input shape, class count, the
 * reference implementation followed, and the published parameter and MAC counts they are checked against
 * (registry.test.ts keeps ours within 3 %).
 */
import {
  type ArchitectureFn,
  efficientnetEdgeTpuL,
  efficientnetEdgeTpuM,
  efficientnetEdgeTpuS,
  inceptionV1,
  inceptionV3,
  inceptionV4,
  mobilenetV1,
  mobilenetV2,
  resnet50V1,
  resnet152V2,
  squeezenet,
  vgg16,
} from './architectures.js';

/** Names of the zoo's models, in registry order. */
export const ZOO_MODEL_NAMES = [
  'mobilenet_v1',
  'mobilenet_v2',
  'squeezenet',
  'inception_v1',
  'inception_v3',
  'inception_v4',
  'resnet50_v1',
  'resnet152_v2',
  'vgg16',
  'efficientnet_edgetpu_s',
  'efficientnet_edgetpu_m',
  'efficientnet_edgetpu_l',
] as const;

/** One of the zoo's model names. */
export type ZooModelName = (typeof ZOO_MODEL_NAMES)[number];

/** A published size figure and where it comes from. */
export interface PublishedFigures {
  /** Published parameter count (weights, biases and batch-norm variables of the reference model). */
  params: number;
  /** Where the parameter count is published. */
  paramsSource: string;
  /** Published multiply-accumulates for one image at {@link PublishedFigures.macsResolution}. */
  macs: number;
  /** Square input size (pixels) the published MAC count is for. */
  macsResolution: number;
  /** Where the MAC count is published (and how it was converted, e.g. FLOPs = 2 · MACs). */
  macsSource: string;
}

/** What the registry knows about one zoo model. */
export interface ZooModelInfo {
  /** Registry name, e.g. "mobilenet_v1". */
  name: ZooModelName;
  /** Input tensor shape, NHWC int8 (scale 1/128, zero point 0). */
  inputShape: readonly [1, number, number, 3];
  /** Output classes: 1001 (TF-slim / Coral, class 0 = background) or 1000 (Keras / torchvision). */
  classes: 1000 | 1001;
  /** One-line description: architecture, variant and reference implementation followed. */
  description: string;
  /** Published parameters and MACs the generated model is checked against. */
  published: PublishedFigures;
}

interface Entry extends ZooModelInfo {
  build: ArchitectureFn;
}

const MOBILENET_PAPER =
  'Howard et al. 2017, MobileNets, Table 8 (1.0 MobileNet-224: 4.2 M params, 569 M mult-adds)';
const TIMM = 'timm model card (huggingface.co/timm)';
const KERAS = 'keras.io/api/applications table (exact counts from model.summary())';
const OMZ = 'OpenVINO Open Model Zoo model card';

const ENTRIES: readonly Entry[] = [
  {
    name: 'mobilenet_v1',
    inputShape: [1, 224, 224, 3],
    classes: 1001,
    description: 'MobileNet v1 1.0, 224 px — TF-slim mobilenet_v1 (Coral mobilenet_v1_1.0_224)',
    published: {
      params: 4.2e6,
      paramsSource: MOBILENET_PAPER,
      macs: 569e6,
      macsResolution: 224,
      macsSource: MOBILENET_PAPER,
    },
    build: mobilenetV1,
  },
  {
    name: 'mobilenet_v2',
    inputShape: [1, 224, 224, 3],
    classes: 1001,
    description: 'MobileNet v2 1.0, 224 px — TF-slim mobilenet_v2 (Coral mobilenet_v2_1.0_224)',
    published: {
      params: 3.47e6,
      paramsSource: 'TF-slim nets/mobilenet README table (mobilenet_v2_1.0_224: 300 M MACs, 3.47 M params)',
      macs: 300e6,
      macsResolution: 224,
      macsSource: 'TF-slim nets/mobilenet README table (mobilenet_v2_1.0_224)',
    },
    build: mobilenetV2,
  },
  {
    name: 'squeezenet',
    inputShape: [1, 224, 224, 3],
    classes: 1000,
    description: 'SqueezeNet 1.0, 224 px — torchvision squeezenet1_0 (Iandola et al. 2016, Table 1)',
    published: {
      params: 1_248_424,
      paramsSource: 'torchvision models table (squeezenet1_0 num_params)',
      macs: 0.82e9,
      macsResolution: 224,
      macsSource: 'torchvision models table (squeezenet1_0: 0.82 "GFLOPS", counted as MACs)',
    },
    build: squeezenet,
  },
  {
    name: 'inception_v1',
    inputShape: [1, 224, 224, 3],
    classes: 1001,
    description:
      'Inception v1 (GoogLeNet + batch norm, no LRN), 224 px — TF-slim inception_v1 (Coral inception_v1_224)',
    published: {
      params: 6.619e6,
      paramsSource: `${OMZ} googlenet-v1-tf (TF-slim inception_v1: 6.619 MParams)`,
      macs: 1.508e9,
      macsResolution: 224,
      macsSource: `${OMZ} googlenet-v1-tf (3.016 GFLOPs = 2 · MACs)`,
    },
    build: inceptionV1,
  },
  {
    name: 'inception_v3',
    inputShape: [1, 299, 299, 3],
    classes: 1000,
    description: 'Inception v3, 299 px — keras.applications.InceptionV3 (Szegedy et al. 2016)',
    published: {
      params: 23_851_784,
      paramsSource: `${KERAS}: InceptionV3 23,851,784`,
      macs: 5.7e9,
      macsResolution: 299,
      macsSource: `${TIMM} inception_v3.tf_in1k (5.7 GMACs at 299)`,
    },
    build: inceptionV3,
  },
  {
    name: 'inception_v4',
    inputShape: [1, 299, 299, 3],
    classes: 1001,
    description: 'Inception v4, 299 px — TF-slim inception_v4 without aux logits (Szegedy et al. 2017)',
    published: {
      params: 42.648e6,
      paramsSource: `${OMZ} googlenet-v4-tf (TF-slim inception_v4: 42.648 MParams)`,
      macs: 12.292e9,
      macsResolution: 299,
      macsSource: `${OMZ} googlenet-v4-tf (24.584 GFLOPs = 2 · MACs, at 299)`,
    },
    build: inceptionV4,
  },
  {
    name: 'resnet50_v1',
    inputShape: [1, 299, 299, 3],
    classes: 1000,
    description:
      'ResNet-50 v1, 299 px — keras.applications.ResNet50 (He et al. 2016, stride in the first 1×1)',
    published: {
      params: 25_636_712,
      paramsSource: `${KERAS}: ResNet50 25,636,712`,
      macs: 3.8e9,
      macsResolution: 224,
      macsSource: 'He et al. 2016, Table 1 (ResNet-50: 3.8·10⁹ FLOPs, counted as multiply-adds, at 224)',
    },
    build: resnet50V1,
  },
  {
    name: 'resnet152_v2',
    inputShape: [1, 299, 299, 3],
    classes: 1000,
    description:
      'ResNet-152 v2 (pre-activation), 299 px — keras.applications.ResNet152V2 (= TF-slim resnet_v2_152 layout)',
    published: {
      params: 60_380_648,
      paramsSource: `${KERAS}: ResNet152V2 60,380,648`,
      macs: 10.919e9,
      macsResolution: 224,
      macsSource:
        'TensorFlow receptive-field table (tensorflow/contrib/receptive_field/RECEPTIVE_FIELD_TABLE.md): ' +
        'resnet_v2_152 at 224, end point block4, 21.838 GFLOPs = 2 · MACs (head excluded)',
    },
    build: resnet152V2,
  },
  {
    name: 'vgg16',
    inputShape: [1, 224, 224, 3],
    classes: 1000,
    description: 'VGG-16 (configuration D), 224 px — keras.applications.VGG16',
    published: {
      params: 138_357_544,
      paramsSource: `${KERAS}: VGG16 138,357,544`,
      macs: 15.3e9,
      macsResolution: 224,
      macsSource: 'Howard et al. 2017, MobileNets, Table 8 (VGG 16: 15,300 M mult-adds)',
    },
    build: vgg16,
  },
  {
    name: 'efficientnet_edgetpu_s',
    inputShape: [1, 224, 224, 3],
    classes: 1001,
    description:
      'EfficientNet-EdgeTPU-S, 224 px — tensorflow/tpu efficientnet/edgetpu (Coral EfficientNet-EdgeTpu S)',
    published: {
      params: 5.4e6,
      paramsSource: `${TIMM} efficientnet_es (5.4 M params, 1000 classes)`,
      macs: 1.8e9,
      macsResolution: 224,
      macsSource: `${TIMM} efficientnet_es (1.8 GMACs at 224)`,
    },
    build: efficientnetEdgeTpuS,
  },
  {
    name: 'efficientnet_edgetpu_m',
    inputShape: [1, 240, 240, 3],
    classes: 1001,
    description:
      'EfficientNet-EdgeTPU-M, 240 px — tensorflow/tpu efficientnet/edgetpu (Coral EfficientNet-EdgeTpu M)',
    published: {
      params: 6.9e6,
      paramsSource: `${TIMM} efficientnet_em (6.9 M params, 1000 classes)`,
      macs: 3.0e9,
      macsResolution: 240,
      macsSource: `${TIMM} efficientnet_em (3.0 GMACs at 240)`,
    },
    build: efficientnetEdgeTpuM,
  },
  {
    name: 'efficientnet_edgetpu_l',
    inputShape: [1, 300, 300, 3],
    classes: 1001,
    description:
      'EfficientNet-EdgeTPU-L, 300 px — tensorflow/tpu efficientnet/edgetpu (Coral EfficientNet-EdgeTpu L)',
    published: {
      params: 10.6e6,
      paramsSource: `${TIMM} tf_efficientnet_el (10.6 M params, 1000 classes)`,
      macs: 8.0e9,
      macsResolution: 300,
      macsSource: `${TIMM} tf_efficientnet_el (8.0 GMACs at 300)`,
    },
    build: efficientnetEdgeTpuL,
  },
];

function freezeInfo({ build: _build, ...info }: Entry): ZooModelInfo {
  return Object.freeze({
    ...info,
    inputShape: Object.freeze([...info.inputShape]) as unknown as ZooModelInfo['inputShape'],
    published: Object.freeze({ ...info.published }),
  });
}

/** Every zoo model's registry entry, keyed by name (frozen). */
export const ZOO_MODELS: Readonly<Record<ZooModelName, ZooModelInfo>> = Object.freeze(
  Object.fromEntries(ENTRIES.map((e) => [e.name, freezeInfo(e)])) as Record<ZooModelName, ZooModelInfo>,
);

/** Internal: the architecture function of a (validated) model name. */
export function architectureOf(name: ZooModelName): ArchitectureFn {
  return ENTRIES.find((e) => e.name === name)!.build;
}
