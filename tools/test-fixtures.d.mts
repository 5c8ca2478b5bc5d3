/** A model file committed under fixtures/models. */
export interface FixtureModel {
  /** `<kind>/<file name without .tflite>`, e.g. `coral/mobilenet_v2_1.0_224_quant`. */
  readonly name: string;
  /** Absolute path of the file. */
  readonly path: string;
}

/** The fixtures/models directory of this repository. */
export declare const FIXTURE_MODELS_DIR: string;

/** The .tflite files of fixtures/models/<kind>, sorted by file name. */
export declare function fixtureModels(kind: 'coral' | 'hostile'): FixtureModel[];
