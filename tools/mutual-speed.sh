#!/bin/bash
# Deep mutual learning's speed, two builds in turns: two 784-128-10 students of configs/fashion-mnist-methods.yaml
# trained together for 2 epochs (seed 0) by the checkout NEW and by OLD (another worktree, built), alternately;
# prints each command's wall seconds; the epochs' seconds and the accuracies are in OUT/<side><round>.log.
#   tools/mutual-speed.sh NEW_DIR OLD_DIR OUT_DIR ROUND...      e.g. tools/mutual-speed.sh . ../old /tmp/mutual 1 2 3
set -u
new=$(cd "$1" && pwd); old=$(cd "$2" && pwd); out=$3; shift 3
mkdir -p "$out"
for r in "$@"; do
  for side in old new; do
    dir=$new; [ $side = old ] && dir=$old
    echo "== round $r $side $(date +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
    rm -rf "$out/$side$r"
    s=$(date +%s.%N)
    (cd "$dir" && ./distill run configs/fashion-mnist-methods.yaml --out "$out/$side$r" \
      --set 'chains=[{mutual: [student_a, student_b], distillation: {method: kd, temperature: 1, soft_weight: 1, hard_weight: 1}}]' \
      --set 'seeds=[0]' --set baseline=false --set models.student_a.training.epochs=2 \
      --set models.student_b.training.epochs=2 > "$out/$side$r.log" 2>&1)
    echo "   exit $? in $(echo "$(date +%s.%N) - $s" | bc) s"
  done
done
