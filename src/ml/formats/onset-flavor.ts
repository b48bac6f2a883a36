import { invalidParameter } from '../../errors.js';
import { parseModel, serializeModelDocument } from '../model-document.js';
import { flavorFile, type ModelFlavor, parseJsonFile } from './model-flavor.js';

/** The Onset document's file in a model directory; runs logged before model directories had only it. */
export const ONSET_DOCUMENT_FILE = 'model.json';

/**
 * The `onset` flavor: the model document, unchanged, in `model.json`, with the estimator and the Onset
 * and document format versions in `MLmodel`. Every Onset model has it, and Onset reads it first: it is
 * the whole model (schema, metrics, report), not an export of it.
 */
export const onsetFlavor: ModelFlavor = {
  name: 'onset',

  write({ document }) {
    return {
      flavors: {
        onset: {
          data: ONSET_DOCUMENT_FILE,
          estimator: document.estimator,
          model_format_version: document.format_version,
          onset_version: document.training.onset_version,
        },
      },
      files: [{ path: ONSET_DOCUMENT_FILE, content: serializeModelDocument(document) }],
    };
  },

  async read(configuration, directory) {
    const path = flavorFile(configuration, 'onset', directory);
    const where = `${directory.where}/${path}`;
    const loaded = parseModel(parseJsonFile(await directory.read(path), where), where);
    if (loaded.format !== 'onset-model') {
      throw invalidParameter(`${where}: the onset flavor's file is not an Onset model document`);
    }
    const estimator = configuration.estimator;
    if (estimator !== undefined && estimator !== loaded.document.estimator) {
      throw invalidParameter(
        `${directory.where}: MLmodel says the onset model is ${String(estimator)}, its document says ${loaded.document.estimator}`,
      );
    }
    return loaded;
  },
};
