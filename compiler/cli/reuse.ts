// The lecture's argument for convolutions, made concrete by `gradc check`: a fully connected layer between
// an image and a feature map needs (inputs × outputs) weights, a convolution reuses one small kernel at
// every position. For each conv2d of the model, both counts; then the whole model with and without reuse.

import type { Model } from '../frontend/model.js';
import type { Node } from '../ir/node.js';
import { showShape, topo } from '../ir/node.js';
import { printExpr } from '../ir/print.js';

const fmt = (n: number) => n.toLocaleString('en-US');

export interface ConvLayer {
  readonly text: string;
  readonly input: readonly number[];
  readonly output: readonly number[];
  /** The kernel's weights and the per-channel bias added to the output (0 without one). */
  readonly weights: number;
  readonly bias: number;
  /** A dense layer between the same input and output: inputs × outputs weights, one bias per output. */
  readonly denseWeights: number;
  readonly denseBias: number;
}

export function convLayers(model: Model, roots: readonly Node[]): ConvLayer[] {
  const names = new Map<Node, string>([...model.inputs, ...model.params, ...model.values].map((d) => [d.node, d.name]));
  const nodes = topo(roots);
  return nodes.filter((n) => n.op === 'conv2d').map((conv) => {
    const [x, k] = conv.args;
    // A per-channel bias: a vector parameter added to the convolution's output.
    const biasAdd = nodes.find((n) => n.op === 'add' && n.args.includes(conv) && n.args.some((a) => a !== conv && a.op === 'param' && a.rank === 1));
    const bias = biasAdd ? biasAdd.args.find((a) => a !== conv)!.size : 0;
    return {
      text: printExpr(conv, 'text', (m) => names.get(m)),
      input: x.shape, output: conv.shape,
      weights: k.size, bias,
      denseWeights: x.size * conv.size, denseBias: bias ? conv.size : 0,
    };
  });
}

/** The check section; empty for a model without convolutions. */
export function reuseSection(model: Model, roots: readonly Node[], totalParams: number): string[] {
  const layers = convLayers(model, roots);
  if (layers.length === 0) return [];
  const rows = [['layer', 'input', 'output', 'kernel', 'dense layer', 'ratio'],
    ...layers.map((l) => [l.text, showShape(l.input), showShape(l.output), fmt(l.weights), fmt(l.denseWeights), `${fmt(Math.round(l.denseWeights / l.weights))}×`])];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const numeric = (c: number) => c >= 3;
  const dense = totalParams + layers.reduce((s, l) => s + l.denseWeights + l.denseBias - l.weights - l.bias, 0);
  return [
    '', 'parameter reuse: each convolution applies one kernel at every position; a dense layer between the same',
    'input and output needs a weight for every pair of their elements',
    ...rows.map((r) => '  ' + r.map((cell, c) => (numeric(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('   ').trimEnd()),
    `total: ${fmt(totalParams)} parameters; with dense layers in their place (biases per output): ${fmt(dense)} (${fmt(Math.round(dense / totalParams))}×)`,
  ];
}
