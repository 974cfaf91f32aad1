#!/usr/bin/env bash
# Native-crash stress test (issue 16): many real trainings, back to back and PARALLEL at a time, with
# the garbage collector made to run very often (a 1 MB young generation, a small JavaCPP maxbytes),
# which is what exposed the SIGSEGV in sd::DataBuffer::primary(). Alternates the shipped digits TAKD
# config (CNN teacher and assistant, MLP student; 30 epochs each, --digits-epochs to change) and a Fashion-MNIST config
# (tools/stress/fashion-mnist-mlp.yaml). A run that crashes is then resumed (fence on) and must finish.
#
#   tools/stress-native.sh [--runs 30] [--parallel 2] [--fence on|off] [--digits-epochs 30] [--out /tmp/distill-stress]
#
# --fence off runs ND4J's plain executioner (-Ddistill.nd4j.fence=false): the A/B that shows the
# crash and its cause. Prints one line per run and a summary: runs, crashes, resumed after a crash.
set -uo pipefail
HOME_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS=30; PARALLEL=2; FENCE=on; OUT=/tmp/distill-stress; DIGITS_EPOCHS=30
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --parallel) PARALLEL="$2"; shift 2 ;;
    --fence) FENCE="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --digits-epochs) DIGITS_EPOCHS="$2"; shift 2 ;;
    *) echo "stress-native.sh: unknown option $1 (expected --runs N, --parallel P, --fence on|off, --digits-epochs N, --out DIR)" >&2; exit 2 ;;
  esac
done
case "$FENCE" in on) FENCE_PROP=true ;; off) FENCE_PROP=false ;;
  *) echo "stress-native.sh: --fence takes on or off, not $FENCE" >&2; exit 2 ;; esac
rm -rf "$OUT"; mkdir -p "$OUT"
# build once through the launcher, then start the JVM as the launcher does: a source edited during the
# stress must not make a run rebuild the jars under the runs beside it
"$HOME_DIR/distill" --help >/dev/null || exit 1
distill() {
  java $JAVA_OPTS -Ddistill.home="$HOME_DIR" \
    -cp "$HOME_DIR/distill-runner/target/distill-runner-0.1.0-SNAPSHOT.jar:$HOME_DIR/distill-runner/target/lib/*" \
    dev.distill.runner.cli.DistillCli "$@"
}
export OMP_NUM_THREADS=1
PRESSURE="-Xmx1g -Xmn1m -Dorg.bytedeco.javacpp.maxbytes=256m"

one_run() {
  local i="$1" config args
  if [ $((i % 2)) -eq 0 ]; then
    config="$HOME_DIR/configs/digits-takd.yaml"
    args=(--set models.teacher.training.epochs=$DIGITS_EPOCHS --set models.assistant.training.epochs=$DIGITS_EPOCHS
          --set models.student.training.epochs=$DIGITS_EPOCHS --set 'seeds=[0]')
  else
    config="$HOME_DIR/tools/stress/fashion-mnist-mlp.yaml"; args=()
  fi
  local dir="$OUT/run$i" start=$SECONDS
  JAVA_OPTS="$PRESSURE -Ddistill.nd4j.fence=$FENCE_PROP -XX:ErrorFile=$OUT/hs_err_$i.log" \
    distill run "$config" --out "$dir" "${args[@]}" >"$OUT/log$i" 2>&1
  local code=$? verdict=ok
  if [ -f "$OUT/hs_err_$i.log" ] || [ $code -ge 128 ]; then
    verdict="CRASH ($(grep -m1 -o 'C  \[[^]]*\]  [^ ]*' "$OUT/hs_err_$i.log" 2>/dev/null || echo "exit $code"))"
    if JAVA_OPTS="-Xmx1g" distill resume "$dir" >"$OUT/resume$i" 2>&1 \
        && JAVA_OPTS="-Xmx1g" distill status "$dir" 2>&1 | grep -q ": done"; then
      verdict="$verdict; resumed to done"
    else
      verdict="$verdict; RESUME FAILED (see $OUT/resume$i)"
    fi
  elif [ $code -ne 0 ]; then
    verdict="FAILED exit $code (see $OUT/log$i)"
  fi
  echo "run $i $(basename "$config") $((SECONDS - start)) s: $verdict" | tee -a "$OUT/results.txt"
}

for ((i = 0; i < RUNS; i++)); do
  one_run "$i" &
  while [ "$(jobs -rp | wc -l)" -ge "$PARALLEL" ]; do sleep 1; done
done
wait
crashes=$(grep -c CRASH "$OUT/results.txt" || true)
failed=$(grep -c FAILED "$OUT/results.txt" || true)
resumed=$(grep -c "resumed to done" "$OUT/results.txt" || true)
echo "fence $FENCE: $RUNS runs, $PARALLEL at a time: $crashes crashed ($resumed of them resumed to done), $failed failed otherwise; load average $(cut -d' ' -f1-3 /proc/loadavg)" \
  | tee -a "$OUT/results.txt"
[ "$crashes" -eq 0 ] && [ "$failed" -eq 0 ]
