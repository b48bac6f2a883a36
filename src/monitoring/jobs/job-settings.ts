import type { OnsetConfig } from '../../config.js';
import { invalidParameter } from '../../errors.js';
import { parseWindow, parseWindowList } from '../time-window.js';
import type { DriftCheckSettings } from './drift-check.js';
import type { PerformanceCheckSettings } from './performance-check.js';

/** The settings of both checks, from the configuration (the windows checked here, naming the variable). */
export interface CheckSettings {
  readonly drift: DriftCheckSettings;
  readonly performance: PerformanceCheckSettings;
}

/** The drift check's settings; a window that is not one is refused naming `ONSET_DRIFT_WINDOW`. */
export function driftSettingsOf(
  config: Pick<OnsetConfig, 'driftWindow' | 'driftMaxRows' | 'driftMinRows'>,
): DriftCheckSettings {
  try {
    return {
      window: parseWindow(config.driftWindow),
      maxRows: config.driftMaxRows,
      minRows: config.driftMinRows,
    };
  } catch (error) {
    throw invalidParameter(`ONSET_DRIFT_WINDOW: ${(error as Error).message}`);
  }
}

/** The performance check's settings; bad windows are refused naming `ONSET_PERFORMANCE_WINDOWS`. */
export function performanceSettingsOf(
  config: Pick<OnsetConfig, 'performanceWindows' | 'performanceMaxRows'>,
): PerformanceCheckSettings {
  return {
    windows: parseWindowList(config.performanceWindows, 'ONSET_PERFORMANCE_WINDOWS'),
    maxRows: config.performanceMaxRows,
  };
}

/** Both checks' settings from `config` (see `driftSettingsOf` and `performanceSettingsOf`). */
export function checkSettingsOf(
  config: Pick<
    OnsetConfig,
    'driftWindow' | 'driftMaxRows' | 'driftMinRows' | 'performanceWindows' | 'performanceMaxRows'
  >,
): CheckSettings {
  return { drift: driftSettingsOf(config), performance: performanceSettingsOf(config) };
}
