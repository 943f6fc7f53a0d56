// A Hessian–vector product is linear in its direction d; these functions read the matrix off it. For a
// vector d they find M with hvp = M d (the Hessian); for a matrix direction V they find A and B with
// hvp = A V B, whose Hessian is kron(A, Bᵀ) in the row-major order gradc flattens matrices in (the form
// the Cookbook gives for softmax regression: kron(diag(p) − p pᵀ, x xᵀ)). Each rule is one line of linear
// algebra; anything else (d inside a nonlinear function, Vᵀ) gives up, and the caller prints the
// Hessian-vector product itself.

import type { Node } from '../ir/node.js';
import { topo } from '../ir/node.js';
import * as B from '../ir/build.js';

/** `undefined`: no rule applies; `null`: e does not depend on the direction (a zero coefficient). */
type Found<T> = T | null | undefined;

const identity = (n: number) => B.diag(B.constant(1, [n]));
const ones = (n: number) => B.constant(1, [n]);

function dependence(root: Node, d: Node): (n: Node) => boolean {
  const dep = new Set<Node>();
  for (const n of topo([root])) if (n === d || n.args.some((a) => dep.has(a))) dep.add(n);
  return (n) => dep.has(n);
}

/** `rule` applied once per node that depends on the direction; null for the nodes that do not. */
function memoized<T>(depends: (n: Node) => boolean, rule: (e: Node) => Found<T>): (e: Node) => Found<T> {
  const memo = new Map<Node, Found<T>>();
  return (e) => {
    if (!depends(e)) return null;
    if (!memo.has(e)) memo.set(e, rule(e));
    return memo.get(e);
  };
}

/**
 * M with e = M d for a vector direction d [n]: a matrix [k, n] for a vector e [k], a vector c [n]
 * (e = cᵀd) for a scalar e.
 */
export function vectorCoefficient(root: Node, d: Node): Node | undefined {
  const depends = dependence(root, d);
  const n = d.shape[0];
  const lift = (x: Node, like: Node): Found<Node> => {
    const c = coef(x);
    if (!c || x.rank === like.rank) return c;
    return x.isScalar && like.rank === 1 ? B.outer(ones(like.shape[0]), c) : undefined;
  };
  const coef = memoized<Node>(depends, (e) => rule(e));
  const rule = (e: Node): Found<Node> => {
    if (e === d) return identity(n);
    if (e.rank > 1) return undefined;
    const [a, b] = e.args;
    switch (e.op) {
      case 'add': {
        const ca = lift(a, e), cb = lift(b, e);
        if (ca === undefined || cb === undefined) return undefined;
        return ca && cb ? B.add(ca, cb) : ca ?? cb;
      }
      case 'neg': { const c = coef(a); return c && B.neg(c); }
      case 'transpose': return coef(a);
      case 'mul': {
        if (depends(a) && depends(b)) return undefined;
        const [f, t] = depends(a) ? [b, a] : [a, b];
        const c = coef(t);
        if (!c) return c;
        if (f.isScalar) return B.mul(f, c);
        if (t.isScalar) return f.rank === 1 ? B.outer(f, c) : undefined;
        return f.rank === 1 && t.rank === 1 ? B.matmul(B.diag(f), c) : undefined;
      }
      case 'div': {
        if (depends(b)) return undefined;
        const c = coef(a);
        if (!c) return c;
        if (b.isScalar) return B.div(c, b);
        return a.rank === 1 && b.rank === 1 ? B.matmul(B.diag(B.div(B.constant(1), b)), c) : undefined;
      }
      case 'matmul': {
        if (depends(a) && depends(b)) return undefined;
        if (a.rank === 2 && !depends(a) && b.rank === 1) { const c = coef(b); return c && B.matmul(a, c); }
        if (a.rank === 1 && !depends(b) && b.rank === 2) { const c = coef(a); return c && B.matmul(B.transpose(b), c); } // vᵀA = Aᵀv
        return undefined;
      }
      case 'dot': {
        if (depends(a) && depends(b)) return undefined;
        const [f, t] = depends(a) ? [b, a] : [a, b];
        const c = coef(t);
        return c && B.matmul(B.transpose(c), f);
      }
      case 'sum': { if (a.rank !== 1) return undefined; const c = coef(a); return c && B.sumRows(c); }
      case 'index': { const c = coef(a); return c && B.matmul(B.onehot(b, a.shape[0]), c); }
      case 'fill': { if (e.rank !== 1 || !a.isScalar) return undefined; const c = coef(a); return c && B.outer(ones(e.shape[0]), c); }
      default: return undefined;
    }
  };
  const r = coef(root);
  return r === null ? B.constant(0, root.isScalar ? [n] : [root.shape[0], n]) : r;
}

/** e = A V B (a matrix e), A V c (a vector e), or aᵀ V c (a scalar e), for a matrix direction V. */
interface KronForm { readonly left: Node; readonly right: Node }

/** A and B with e = A V B for a matrix direction V; the Hessian is then kron(A, Bᵀ). */
export function kronCoefficients(root: Node, V: Node): KronForm | undefined {
  const depends = dependence(root, V);
  const [m, k] = V.shape;
  const form = memoized<KronForm>(depends, (e) => rule(e));
  const scale = (f: KronForm | null | undefined, by: (a: Node) => Node): Found<KronForm> => f && { left: by(f.left), right: f.right };
  const lift = (x: Node, like: Node): Found<KronForm> => {
    const f = form(x);
    if (!f || x.rank === like.rank) return f;
    return x.isScalar && like.rank === 1 ? { left: B.outer(ones(like.shape[0]), f.left), right: f.right } : undefined;
  };
  const rule = (e: Node): Found<KronForm> => {
    if (e === V) return { left: identity(m), right: identity(k) };
    const [a, b] = e.args;
    switch (e.op) {
      case 'add': {
        const fa = lift(a, e), fb = lift(b, e);
        if (fa === undefined || fb === undefined) return undefined;
        if (!fa || !fb) return fa ?? fb;
        if (fa.right === fb.right) return { left: B.add(fa.left, fb.left), right: fa.right };
        if (fa.left === fb.left) return { left: fa.left, right: B.add(fa.right, fb.right) };
        return undefined;
      }
      case 'neg': return scale(form(a), B.neg);
      case 'mul': {
        if (depends(a) && depends(b)) return undefined;
        const [f, t] = depends(a) ? [b, a] : [a, b];
        if (f.isScalar) return scale(form(t), (l) => B.mul(f, l));
        if (t.isScalar) return f.rank === 1 ? scale(form(t), (l) => B.outer(f, l)) : undefined; // f (aᵀ V c) = (f aᵀ) V c
        return f.rank === 1 && t.rank === 1 ? scale(form(t), (l) => B.matmul(B.diag(f), l)) : undefined;
      }
      case 'div': return !depends(b) && b.isScalar ? scale(form(a), (l) => B.div(l, b)) : undefined;
      case 'matmul': {
        if (depends(a) && depends(b)) return undefined;
        if (depends(a)) {
          const f = form(a);
          if (!f) return f;
          if (a.rank === 2) return { left: f.left, right: B.matmul(f.right, b) };            // (A V B) F
          return b.rank === 2 ? { left: B.matmul(B.transpose(b), f.left), right: f.right } : undefined; // (A V c)ᵀ F = Fᵀ A V c
        }
        return a.rank === 2 ? scale(form(b), (l) => B.matmul(a, l)) : undefined;              // F (A V B)
      }
      case 'outer': {
        if (depends(b)) return undefined; // u (A V c)ᵀ has Vᵀ
        const f = form(a);
        return f && { left: f.left, right: B.outer(f.right, b) };
      }
      case 'dot': {
        if (depends(a) && depends(b)) return undefined;
        const [f, t] = depends(a) ? [b, a] : [a, b];
        return scale(form(t), (l) => B.matmul(B.transpose(l), f));
      }
      case 'sum': {
        const f = form(a);
        if (!f) return f;
        return a.rank === 1 ? { left: B.sumRows(f.left), right: f.right } : a.rank === 2 ? { left: B.sumRows(f.left), right: B.sumAxis(f.right, 1) } : undefined;
      }
      case 'index': return scale(form(a), (l) => B.matmul(B.onehot(b, a.shape[0]), l));
      case 'fill': {
        if (e.rank !== 1 || !a.isScalar) return undefined;
        return scale(form(a), (l) => B.outer(ones(e.shape[0]), l));
      }
      case 'transpose': return a.rank === 1 ? form(a) : undefined;
      default: return undefined;
    }
  };
  const r = form(root);
  if (r === undefined || root.rank !== 2) return undefined;
  return r ?? { left: B.constant(0, [m, m]), right: B.constant(0, [k, k]) };
}
