import { describe, expect, it } from 'vitest';
import { GENERATOR_CONSTANTS } from '../../data/generator/constants.js';
import { labelLogit } from '../../data/generator/model.js';
import { sigmoid } from '../../math/sigmoid.js';
import { describeShift, parseShift, parseShifts, SimulatedPatients } from './simulated-patients.js';

const draw = (patients: SimulatedPatients, count: number) =>
  Array.from({ length: count }, () => patients.next());

describe('simulated patients', () => {
  it('are the same for the same options, and differ from batch to batch', () => {
    const a = draw(new SimulatedPatients({ seed: 3, batchRows: 50 }), 120);
    const b = draw(new SimulatedPatients({ seed: 3, batchRows: 50 }), 120);
    expect(a).toEqual(b);
    expect(a[0]!.features).not.toEqual(a[50]!.features);
    expect(new Set(a.map((p) => p.patientId)).size).toBe(120);
  });

  it('move a feature within its limits, set another, and draw the truth from the label model on the shifted features', () => {
    const shifts = parseShifts(['Age=+60', 'MoCA=3', 'Smoking=1']);
    const patients = draw(new SimulatedPatients({ seed: 4, shifts }), 2000);
    const ages = patients.map((p) => p.features.Age);
    expect(Math.max(...ages)).toBe(125);
    expect(Math.min(...ages)).toBeGreaterThanOrEqual(110);
    expect(patients.every((p) => p.features.MoCA === 3 && p.features.Smoking === 1)).toBe(true);
    // The share diagnosed matches the label model's mean probability on the shifted patients.
    const expected =
      patients.reduce(
        (sum, p) => sum + sigmoid(labelLogit(GENERATOR_CONSTANTS.labelModel, (name) => p.features[name])),
        0,
      ) / patients.length;
    const observed = patients.filter((p) => p.diagnosis === 1).length / patients.length;
    expect(Math.abs(observed - expected)).toBeLessThan(0.03);
  });

  it('draw patients of each class at the asked prevalence', () => {
    for (const prevalence of [0, 0.1, 0.9, 1]) {
      const patients = draw(new SimulatedPatients({ seed: 5, prevalence }), 1000);
      const share = patients.filter((p) => p.diagnosis === 1).length / 1000;
      expect(Math.abs(share - prevalence), String(prevalence)).toBeLessThan(0.03);
    }
    expect(() => new SimulatedPatients({ seed: 5, prevalence: 1.2 })).toThrow(
      /prevalence must be a share from 0 to 1/,
    );
  });

  it('read shifts as written and write them back', () => {
    expect(parseShift('Age=+15')).toEqual({ feature: 'Age', kind: 'delta', delta: 15 });
    expect(parseShift('BMI=-2.5')).toEqual({ feature: 'BMI', kind: 'delta', delta: -2.5 });
    expect(parseShift('Ethnicity=2')).toEqual({ feature: 'Ethnicity', kind: 'set', value: 2 });
    expect(parseShift(' UPDRS = 100 ')).toEqual({ feature: 'UPDRS', kind: 'set', value: 100 });
    expect(['Age=+15', 'BMI=-2.5', 'Ethnicity=2'].map((text) => describeShift(parseShift(text)))).toEqual([
      'Age=+15',
      'BMI=-2.5',
      'Ethnicity=2',
    ]);
    expect(() => parseShift('=3')).toThrow(/is not FEATURE=\+DELTA/);
    expect(() => parseShift('Tremor=+1')).toThrow(/Tremor is binary, set to one of its codes/);
  });
});
