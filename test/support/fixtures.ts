import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FEATURE_NAMES, KAGGLE_COLUMNS } from '../../src/data/schema.js';

/**
 * The real Kaggle file: `ONSET_REAL_DATA` when set, else `../shared/data/parkinsons_disease_data.csv` beside
 * the project (CI has it; a fresh clone elsewhere may not, and the tests that need it then skip).
 */
export const REAL_DATA_PATH =
  process.env.ONSET_REAL_DATA ??
  fileURLToPath(new URL('../../../shared/data/parkinsons_disease_data.csv', import.meta.url));
export const HAS_REAL_DATA = existsSync(REAL_DATA_PATH);
export const REAL_DATA_SKIP_REASON = `the real data file is absent (${REAL_DATA_PATH}); get parkinsons_disease_data.csv from Kaggle to run these tests`;

if (!HAS_REAL_DATA) {
  console.warn(`Skipping real-data tests: ${REAL_DATA_SKIP_REASON}`);
}

/** A valid record (the first row of the Kaggle file), as text fields keyed by column. */
export const VALID_RECORD: Readonly<Record<string, string>> = {
  PatientID: '3058',
  Age: '85',
  Gender: '0',
  Ethnicity: '3',
  EducationLevel: '1',
  BMI: '19.61987796',
  Smoking: '0',
  AlcoholConsumption: '5.108240607',
  PhysicalActivity: '1.380659917',
  DietQuality: '3.893969135',
  SleepQuality: '9.283194448',
  FamilyHistoryParkinsons: '0',
  TraumaticBrainInjury: '0',
  Hypertension: '0',
  Diabetes: '0',
  Depression: '0',
  Stroke: '0',
  SystolicBP: '129',
  DiastolicBP: '60',
  CholesterolTotal: '222.8422778',
  CholesterolLDL: '148.1256228',
  CholesterolHDL: '37.86777643',
  CholesterolTriglycerides: '337.307114',
  UPDRS: '6.458712951',
  MoCA: '29.18128929',
  FunctionalAssessment: '1.57242719',
  Tremor: '1',
  Rigidity: '0',
  Bradykinesia: '0',
  PosturalInstability: '0',
  SpeechProblems: '0',
  SleepDisorders: '0',
  Constipation: '0',
  Diagnosis: '0',
  DoctorInCharge: 'DrXXXConfid',
};

/**
 * CSV text of `rows` records made from VALID_RECORD with per-row overrides (PatientID made unique).
 * `columns` chooses and orders the header (default: the Kaggle layout).
 */
export function csvText(
  rows: readonly Readonly<Record<string, string>>[],
  options: { columns?: readonly string[]; eol?: string } = {},
): string {
  const columns = options.columns ?? KAGGLE_COLUMNS;
  const eol = options.eol ?? '\n';
  const lines = [columns.join(',')];
  rows.forEach((overrides, i) => {
    const record: Record<string, string> = { ...VALID_RECORD, PatientID: String(3058 + i), ...overrides };
    lines.push(columns.map((column) => record[column] ?? '').join(','));
  });
  return lines.join(eol) + eol;
}

export { FEATURE_NAMES };

/** A small fitted model document (logistic on generated data), as `onset train` writes it. */
export async function readTinyModel(): Promise<string> {
  const { generateDataset } = await import('../../src/data/generator/generator.js');
  const { trainOnDataset } = await import('../../src/ml/train-on-dataset.js');
  const { serializeModelDocument } = await import('../../src/ml/model-document.js');
  const { document } = trainOnDataset(generateDataset({ rows: 120, seed: 3 }), { estimator: 'logistic' });
  return serializeModelDocument(document);
}
