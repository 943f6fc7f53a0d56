// `gradc compile M.nn --target onnx -o DIR [--weights W.json] [--with-loss] [--l2 X]`: model.onnx and
// train_step.onnx (compiler/codegen/onnx). A model ONNX cannot express gets a located error and no file.

import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Gradients } from '../autodiff/gradients.js';
import type { Model } from '../frontend/model.js';
import { formatDiagnostic, PlainError, UserError } from '../source/diagnostics.js';
import { loadCheckpoint } from '../../runtime/checkpoint.js';
import { initialize } from '../../runtime/init.js';
import { elementsOf, type ModelSpec } from '../../runtime/model.js';
import { Rng } from '../../runtime/rng.js';
import { TRAIN_DEFAULTS } from '../../runtime/train.js';
import { inferenceModel, trainStepModel, type OnnxOptions } from '../codegen/onnx/export.js';
import { OPSET } from '../codegen/onnx/graph.js';

/** The params to export: saved by `train --save`, or the initialisation a trainer with seed `seed` starts from. */
export function exportWeights(model: Model, weightsFile: string | undefined, seed = TRAIN_DEFAULTS.seed): Map<string, Float64Array> {
  const bufs = model.params.map((q) => new Float64Array(elementsOf(q.shape)));
  if (weightsFile) loadCheckpoint(weightsFile, { params: model.params.map((q) => ({ name: q.name, shape: [...q.shape] })) } as unknown as ModelSpec, bufs);
  else {
    const rng = new Rng(seed);
    model.params.forEach((q, k) => initialize(bufs[k], q.shape, q.init, rng));
  }
  return new Map(model.params.map((q, k) => [q.name, bufs[k]]));
}

/** Both files' bytes; throws a PlainError naming the model when something cannot be expressed in ONNX. */
export function onnxFiles(g: Gradients, opts: OnnxOptions): { model: Uint8Array; trainStep: Uint8Array } {
  try {
    return { model: inferenceModel(g, opts), trainStep: trainStepModel(g, opts) };
  } catch (e) {
    if (e instanceof PlainError || e instanceof UserError) throw e;
    throw new PlainError(`${g.model.name}: cannot be exported to ONNX: ${(e as Error).message}`);
  }
}

export function writeOnnx(dir: string, files: { model: Uint8Array; trainStep: Uint8Array }): void {
  try {
    mkdirSync(dir, { recursive: true });
    for (const [name, bytes] of [['model.onnx', files.model], ['train_step.onnx', files.trainStep]] as const) {
      const tmp = join(dir, `.${name}.tmp-${process.pid}`);
      writeFileSync(tmp, bytes);
      renameSync(tmp, join(dir, name));
    }
  } catch (e) {
    throw new PlainError(`${dir}: cannot write the ONNX files (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

export function compileOnnx(g: Gradients, dir: string, opts: { weights?: string; withLoss: boolean; l2: number }): void {
  const files = onnxFiles(g, { weights: exportWeights(g.model, opts.weights), withLoss: opts.withLoss, l2: opts.l2, momentum: 0.9 });
  writeOnnx(dir, files);
  const kb = (b: Uint8Array) => `${(b.length / 1024).toFixed(0)} KiB`;
  console.log(`wrote ${join(dir, 'model.onnx')} (${kb(files.model)}) and ${join(dir, 'train_step.onnx')} (${kb(files.trainStep)}), ONNX opset ${OPSET}`);
  console.log('  run them with ONNX Runtime (onnxruntime-node, onnxruntime-web, onnxruntime for Python); docs/onnx.md shows how');
}

/** For `gradc check`: which exports the model supports, and why ONNX is not one where it is not. */
export function exportsLines(g: Gradients): string[] {
  const lines = ['', 'exports', '  trainers: ts, wasm, gpu (gpu.js), web (a page)  — gradc compile --target T'];
  try {
    onnxFiles(g, { weights: new Map(g.model.params.map((p) => [p.name, new Float64Array(p.node.size)])), l2: 0, momentum: 0.9 });
    lines.push(`  onnx: model.onnx and train_step.onnx, opset ${OPSET}  — gradc compile --target onnx`);
  } catch (e) {
    const why = e instanceof UserError ? e.diagnostics.map(formatDiagnostic).join('\n').split('\n').map((l) => `    ${l}`).join('\n') : `    ${(e as Error).message}`;
    lines.push('  onnx: not supported:', why);
  }
  return lines;
}
