// A generated MLP of any depth, for the depth sweep (test and scripts/depth-sweep.ts).

export function deepMlp(layers: number, width = 16): string {
  const lines = ['model deep', `dim d = ${width}, h = ${width}, K = 4`, 'input x: [d]', 'input y: class(K)'];
  let prev = 'x';
  for (let i = 1; i <= layers; i++) {
    lines.push(`param W${i}: [h, ${i === 1 ? 'd' : 'h'}] ~ xavier`, `param b${i}: [h] = 0`, `z${i} = W${i} * ${prev} + b${i}`, `a${i} = tanh(z${i})`);
    prev = `a${i}`;
  }
  lines.push('param V: [K, h] ~ xavier', `loss L = cross_entropy(V * ${prev}, y)`);
  return lines.join('\n') + '\n';
}
