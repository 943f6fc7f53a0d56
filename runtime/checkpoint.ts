// Checkpoints: weights and optimizer state as JSON, written atomically (a temporary file, then rename), so
// a trainer killed at any moment leaves the last complete checkpoint intact.

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { OptimizerState } from './optim.js';
import type { Buf } from './kernels.js';
import type { ModelSpec } from './model.js';
import { DataError } from './data.js';

export interface Checkpoint {
  format: 'gradc-checkpoint';
  model: string;
  epoch: number;
  params: { name: string; shape: number[]; values: number[] }[];
  optimizer?: OptimizerState;
  /** A binary classifier's negative label as the training data had it (0 or −1), for predictions later. */
  negativeLabel?: number;
}

export function saveCheckpoint(file: string, spec: ModelSpec, epoch: number, params: readonly Buf[], optimizer?: OptimizerState, negativeLabel?: number): void {
  const ck: Checkpoint = {
    format: 'gradc-checkpoint', model: spec.name, epoch,
    params: spec.params.map((p, k) => ({ name: p.name, shape: [...p.shape], values: Array.from(params[k]) })),
    optimizer,
    ...(spec.binary && negativeLabel !== undefined ? { negativeLabel } : {}),
  };
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(ck));
  renameSync(tmp, file);
}

export function loadCheckpoint(file: string, spec: ModelSpec, params: readonly Buf[]): Checkpoint {
  let ck: Checkpoint;
  try {
    ck = JSON.parse(readFileSync(file, 'utf8')) as Checkpoint;
  } catch (e) {
    throw new DataError(`${file}: cannot read the checkpoint (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (ck?.format !== 'gradc-checkpoint' || !Array.isArray(ck.params)) throw new DataError(`${file}: not a gradc checkpoint`);
  spec.params.forEach((p, k) => {
    const saved = ck.params.find((q) => q.name === p.name);
    if (!saved || saved.values.length !== params[k].length) {
      throw new DataError(`${file}: the checkpoint has no ${p.name} of shape [${p.shape.join(', ')}]: was it saved from another model?`);
    }
    params[k].set(saved.values);
  });
  return ck;
}
