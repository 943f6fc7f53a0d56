#!/usr/bin/env bash
# LeNet-5 (convolutions: one small kernel reused at every position) against LeNet-300-100 (fully connected),
# on the same 8,000 training and 2,000 test digits with the same defaults. Prints, for each network, its
# parameter count, its FLOPs per example and the test accuracy and time of a default training run.
#   bash examples/compare-lenet.sh            (about a minute on two cores)
set -euo pipefail
cd "$(dirname "$0")/.."
printf '%-22s %12s %14s %10s %10s\n' network parameters 'flops/example' 'test acc' 'train time'
for model in mnist-mlp lenet5; do
  check=$(npx gradc check "examples/$model.nn")
  params=$(grep -m1 '^total parameters' <<<"$check" | sed 's/.*: //')
  flops=$(grep -m1 '^flops per example' <<<"$check" | sed 's/^flops per example: forward \([0-9,]*\),.*/\1/')
  final=$(npx gradc train "examples/$model.nn" --data mnist | grep '^final')
  acc=$(sed 's/.*test accuracy \([0-9.]*%\).*/\1/' <<<"$final")
  secs=$(sed 's/.*, \([0-9.]* s\)$/\1/' <<<"$final")
  printf '%-22s %12s %14s %10s %10s\n' "$(grep -m1 '^model' "examples/$model.nn" | cut -d' ' -f2)" "$params" "$flops" "$acc" "$secs"
done
echo
echo 'The convolutions of LeNet-5, each beside the dense layer that would connect the same input and output:'
npx gradc check examples/lenet5.nn | sed -n '/^parameter reuse/,$p'
