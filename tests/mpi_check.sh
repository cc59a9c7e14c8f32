#!/usr/bin/env bash
# MPI mode against the simulated mode: 4 ranks (oversubscribed) must produce the
# same trace as one process, bit for bit, for several sketches and both
# algorithms; a corrupt message and a dead rank must end every rank with an
# error, never a hang (the weight is the default, diag-inv).   usage: mpi_check.sh DETCGD DATA_DIR [OPTIONS]  (OPTIONS added to every run, e.g.
# "--backend cuda": every rank and the simulation on the CUDA backend)
set -uo pipefail
DETCGD=$1; DATA=$2/a1a; EXTRA=${3:-}
[ -f "$DATA" ] || { echo "skip: $DATA not present"; exit 77; }
command -v mpirun >/dev/null || { echo "skip: no mpirun"; exit 77; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
MPIRUN="mpirun --oversubscribe -np 4"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
# With OPTIONS (the CUDA emulation: minutes per MPI run of the full list) the check is lean: two of the sketch
# configurations, the first table row of each method (with full and with minibatch gradients), no fault or restart cases (the transport's, run on the CPU)
LEAN=${EXTRA:+1}
BASE="run --data $DATA --lambda 0.1 --clients 20 --iters 120 --trace-every 10 --verbose 0 --progress 0 --f-inf-iters 100 $EXTRA"
fail=0
for cfg in "--method det-cgd1 --sketch rand-1 --stepsize cor1" \
           "--method det-cgd2 --sketch rand-k --k 4 --stepsize cor1" \
           "--method det-cgd1 --sketch rand-k --k 3 --stepsize dcgd-kr --shared-seed 1" \
           "--method det-cgd2 --sketch bern-q --q 0.4 --stepsize cor1 --value-bits 64" \
           "--method det-cgd1 --sketch bernoulli --p 0.1 --stepsize cor1 --split shuffled"; do
  case "$cfg" in *"rand-k"*|*bernoulli*) [ -n "$LEAN" ] && continue ;; esac
  # shellcheck disable=SC2086
  $DETCGD $BASE $cfg --trace "$T/sim.csv" || { echo "FAIL sim: $cfg"; fail=1; continue; }
  # shellcheck disable=SC2086
  timeout 120 $MPIRUN $DETCGD $BASE $cfg --mode mpi --trace "$T/mpi.csv" || { echo "FAIL mpi run: $cfg"; fail=1; continue; }
  if diff <(cut -d, -f1-8 "$T/sim.csv") <(cut -d, -f1-8 "$T/mpi.csv") >/dev/null; then echo "ok   mpi == sim: $cfg"
  else echo "FAIL mpi != sim: $cfg"; fail=1; fi
done
# the method table's rows with clients (tests/method_table.txt), on their planted logistic rows
TABLE_BASE="run --samples 240 --features 24 --layers 3x8 --lambda 0.1 --iters 60 --trace-every 7 --seed 5 --f-inf-iters 50 --verbose 0 --progress 0 $EXTRA"
while IFS= read -r line; do
  case "$line" in ''|'#'*) continue ;; esac
  name=${line%%:*}; opts=""
  for kv in ${line#*:}; do opts="$opts --${kv%%=*} ${kv#*=}"; done
  case "$opts" in *--clients*) ;; *) continue ;; esac
  method=$(echo "$opts" | sed 's/.*--method \([^ ]*\).*/\1/')
  case "$opts" in *--batch*) method="$method-minibatch" ;; esac
  if [ -n "$LEAN" ]; then case " ${seen:-} " in *" $method "*) continue ;; esac; seen="${seen:-} $method"; fi
  clients=$(echo "$opts" | sed 's/.*--clients \([0-9]*\).*/\1/'); ranks=$((clients < 4 ? clients : 4))
  # shellcheck disable=SC2086
  $DETCGD $TABLE_BASE $opts --trace "$T/sim.csv" < /dev/null || { echo "FAIL sim: table row $name"; fail=1; continue; }
  # shellcheck disable=SC2086
  timeout 120 mpirun --oversubscribe -np $ranks $DETCGD $TABLE_BASE $opts --mode mpi --trace "$T/mpi.csv" < /dev/null ||
    { echo "FAIL mpi run: table row $name"; fail=1; continue; }
  if diff <(cut -d, -f1-8 "$T/sim.csv") <(cut -d, -f1-8 "$T/mpi.csv") >/dev/null; then echo "ok   mpi == sim: table row $name"
  else echo "FAIL mpi != sim: table row $name"; fail=1; fi
done < "$(dirname "$0")/method_table.txt"
[ -n "$LEAN" ] && exit $fail
# Error feedback and DIANA over MPI: a rank dies after a checkpoint, the resumed run gives the uninterrupted trace --
# EF21 and DIANA (every rank reads rank 0's file, which holds every client's g_c or h_c), EF14 and EF21-SGDM with
# minibatches (their clients' e_c, v_c stay on the client ranks: each rank writes and reads its own file, PATH.rank<r>)
# (ef21-sgdm last: the check after the loop resumes its client ranks' files with another rank count)
for m in "diana --sketch natural" "ef21 --sketch top-k --k 2" "ef14 --sketch top-k --k 2" \
         "ef21-sgdm --batch 2 --sketch top-k --k 2"; do
  EFB="$TABLE_BASE --clients 6 --iters 300 --method $m --mode mpi"
  rm -f "$T"/ef.ck*
  # shellcheck disable=SC2086
  timeout 120 mpirun --oversubscribe -np 3 $DETCGD $EFB --trace "$T/full.csv" < /dev/null
  # shellcheck disable=SC2086
  timeout 120 mpirun --oversubscribe -np 3 $DETCGD $EFB --trace "$T/part.csv" --checkpoint "$T/ef.ck" \
    --checkpoint-every 100 --fault 1:230:die < /dev/null > "$T/out" 2>&1
  # shellcheck disable=SC2086
  timeout 120 mpirun --oversubscribe -np 3 $DETCGD $EFB --trace "$T/part.csv" --resume "$T/ef.ck" < /dev/null
  if grep -q "injected fault" "$T/out" && diff <(cut -d, -f1-8 "$T/full.csv") <(cut -d, -f1-8 "$T/part.csv") >/dev/null
  then echo "ok   $m over MPI: died after a checkpoint, resumed = uninterrupted"
  else echo "FAIL $m over MPI: resumed != uninterrupted"; fail=1; fi
done
# shellcheck disable=SC2086
if ! timeout 120 mpirun --oversubscribe -np 2 $DETCGD $TABLE_BASE --clients 6 --iters 300 --method ef14 --sketch top-k \
     --k 2 --mode mpi --resume "$T/ef.ck" < /dev/null > "$T/out" 2>&1 && grep -q "was written by rank 1 of 3" "$T/out"
then echo "ok   a client rank's checkpoint resumed with another rank count is refused"
else echo "FAIL another rank count not refused"; cat "$T/out"; fail=1; fi
# a corrupt message, a dead rank and a rank that stops answering (paused: the others wait rank-timeout) end
# every rank with an error; only the pause is meant to meet the short deadline, the others are seen first (a
# loaded machine must not let a 3 s deadline pass before rank 0 reads the corrupt message)
for fault in "1:30:garbage|malformed message from rank 1|60" "2:30:die|injected fault: rank 2 dies|60" \
             "1:30:pause|heard nothing from rank|3"; do
  IFS='|' read -r spec want deadline <<< "$fault"
  # shellcheck disable=SC2086
  timeout 120 $MPIRUN $DETCGD $BASE --method det-cgd2 --sketch rand-1 --stepsize cor1 --mode mpi --fault "$spec" \
    --rank-timeout "$deadline" > "$T/out" 2>&1
  rc=$?
  if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "$want" "$T/out" && grep -q "another rank failed" "$T/out"; then
    echo "ok   fault $spec ends every rank (rc $rc)"
  else echo "FAIL fault $spec (rc $rc)"; cat "$T/out"; fail=1; fi
done
# Ctrl-C (rank 0 sends SIGINT to mpirun at iteration 200, as the terminal would): mpirun sends SIGTERM to every
# rank, which says so; rank 0 stops after an iteration and tells the others, the trace, summary and checkpoint
# are written, every rank reports the stop; resumed, the run gives the uninterrupted trace (Corollary 1's D
# depends on K: the same iters, and a resume with other iters is refused)
# (CPU only, as the fault cases: the signal path is no backend's)
LONG="$BASE --method det-cgd1 --sketch rand-1 --stepsize cor1 --mode mpi --iters 3000 --trace-every 100"
# (mpirun's SIGKILL follows its SIGTERM after odls_base_sigkill_timeout, 1 s: 10 here, so that a loaded CI machine
# tests the stop, not its speed)
OMPI_MCA_odls_base_sigkill_timeout=10 timeout 120 $MPIRUN $DETCGD $LONG --trace "$T/i.csv" --summary "$T/i.json" \
  --checkpoint "$T/i.ck" --checkpoint-every 100000000 --fault 0:200:ctrl-c > "$T/out" 2>&1
K=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['result']; print(r['iterations'] if r['termination'] == 'interrupted' else -1)" "$T/i.json" 2>/dev/null || echo -1)
said=$(grep -c "SIGTERM from the MPI launcher (Ctrl-C" "$T/out")
stopped=$(grep -c "interrupted after $K iterations" "$T/out")
if [ "$K" -gt 0 ] && [ "$said" -eq 4 ] && [ "$stopped" -eq 4 ] && [ -s "$T/i.ck" ]; then
  echo "ok   Ctrl-C under MPI: every rank says so, stopped after $K iterations, summary and checkpoint written"
  if timeout 120 $MPIRUN $DETCGD $LONG --iters 3001 --resume "$T/i.ck" > "$T/out" 2>&1 ||
     ! grep -q "was written with iters = 3000; this run has iters = 3001" "$T/out"; then
    echo "FAIL MPI resume with other iters under cor1 not refused"; cat "$T/out"; fail=1; fi
  timeout 120 $MPIRUN $DETCGD $LONG --resume "$T/i.ck" --trace "$T/i.csv" > "$T/out" 2>&1 || { echo "FAIL MPI resume"; cat "$T/out"; fail=1; }
  timeout 120 $MPIRUN $DETCGD $LONG --trace "$T/full.csv" > "$T/out" 2>&1 || { echo "FAIL MPI uninterrupted run"; fail=1; }
  if diff <(cut -d, -f1-8 "$T/i.csv") <(cut -d, -f1-8 "$T/full.csv") > /dev/null; then echo "ok   MPI: interrupted + resumed = uninterrupted"
  else echo "FAIL MPI: interrupted + resumed != uninterrupted"; fail=1; fi
else echo "FAIL Ctrl-C under MPI (K $K, $said ranks said SIGTERM, $stopped reported the stop)"; cat "$T/out"; fail=1; fi
exit $fail
