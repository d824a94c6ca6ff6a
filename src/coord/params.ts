// Search parameters (snake_case names of ENGINE_PARAMETERS) -> what one trial runs with: the engine's TrialSettings
// plus model-config overrides (dropout lives in the model config, not in the optimiser settings).
import type { EncoderConfig } from '../engine/model/config.ts';
import type { TrialSettings } from '../engine/train/run.ts';
import type { ParamValue, Params } from '../search/space.ts';

/** Config fields a search may change; the parameter layout does not depend on them. */
export type ModelOverrides = Partial<Pick<EncoderConfig, 'hiddenDropout' | 'attentionDropout'>>;

export interface MappedTrial {
  settings: TrialSettings;
  modelOverrides: ModelOverrides;
}

type SettingsKey = 'learningRate' | 'batchSize' | 'weightDecay' | 'warmupRatio' | 'epochs' | 'maxGradNorm' | 'adamBeta1' | 'adamBeta2' | 'adamEpsilon' | 'seed';

/** Search name -> TrialSettings field. */
export const PARAM_TO_SETTING: Readonly<Record<string, SettingsKey>> = {
  learning_rate: 'learningRate',
  batch_size: 'batchSize',
  weight_decay: 'weightDecay',
  warmup_ratio: 'warmupRatio',
  epochs: 'epochs',
  max_grad_norm: 'maxGradNorm',
  adam_beta1: 'adamBeta1',
  adam_beta2: 'adamBeta2',
  adam_epsilon: 'adamEpsilon',
  seed: 'seed',
};

/** Search name -> model-config field. */
export const PARAM_TO_MODEL: Readonly<Record<string, keyof ModelOverrides>> = {
  dropout: 'hiddenDropout',
  attention_dropout: 'attentionDropout',
};

/** Thrown for a parameter the engine cannot take; the trial fails as invalid-config with this message. */
export class TrialParamsError extends Error {
  override name = 'TrialParamsError';
}

function asNumber(name: string, v: ParamValue): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TrialParamsError(`parameter "${name}": expected a finite number (got ${JSON.stringify(v)})`);
  return v;
}

/**
 * Settings for one trial: `base` (the command's or page's defaults: sequence length, evaluations per epoch, ...)
 * overridden by the trial's parameters. Integer settings (batch size, epochs, seed) are rounded, since a quantized
 * real search dimension can hand out 16.000000000000004. Unknown names throw TrialParamsError.
 */
export function mapTrialParams(params: Params, base: TrialSettings): MappedTrial {
  const settings: TrialSettings = { ...base };
  const modelOverrides: ModelOverrides = {};
  for (const [name, value] of Object.entries(params)) {
    const s = PARAM_TO_SETTING[name];
    if (s !== undefined) {
      const n = asNumber(name, value);
      settings[s] = s === 'batchSize' || s === 'epochs' || s === 'seed' ? Math.round(n) : n;
      continue;
    }
    const m = PARAM_TO_MODEL[name];
    if (m !== undefined) {
      modelOverrides[m] = asNumber(name, value);
      continue;
    }
    throw new TrialParamsError(`parameter "${name}" is not a training setting this engine knows (known: ${[...Object.keys(PARAM_TO_SETTING), ...Object.keys(PARAM_TO_MODEL)].join(', ')})`);
  }
  return { settings, modelOverrides };
}
