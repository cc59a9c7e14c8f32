#!/usr/bin/env bash
# The command line as a new user meets it: every option from the one table, and nothing silently ignored --
# unknown keys, one-dash options, stray words, values out of range and options the command would not read
# end with exit 2 and a message naming them; an experiment keeps its own defaults under a user's override
# and prints the configuration it runs.   usage: cli_check.sh DETCGD
set -uo pipefail
DETCGD=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")  # absolute: some cases run from another folder
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail=0
QUAD="--problem quad-nc --layers 2x4 --lambda 0.1 --iters 3 --verbose 0 --progress 0 --f-inf-iters 5"

# expect RC PATTERN ARGS...: exit code RC and PATTERN (grep -E) in stderr+stdout
expect() {
  local rc=$1 want=$2; shift 2
  "$DETCGD" "$@" > "$T/out" 2>&1
  local got=$?
  if [ $got -eq "$rc" ] && { [ -z "$want" ] || grep -Eq -- "$want" "$T/out"; }; then echo "ok   $*"
  else echo "FAIL $* (rc $got, want $rc and /$want/):"; cat "$T/out"; fail=1; fi
}

# shellcheck disable=SC2086
{
expect 0 "" run $QUAD
expect 2 'unknown option "sketchy"' run $QUAD --sketchy 1
expect 2 '-iters: options start with two dashes' run $QUAD -iters 5
expect 2 'unexpected argument "iters=5"' run $QUAD iters=5
expect 2 'lambda: "x" is not a number' run $QUAD --lambda x
expect 2 'density: 1.5 is out of range \(0, 1\]' run --samples 10 --features 3 --density 1.5
expect 2 'trace-every: 0 is out of range \[1, inf\)' run $QUAD --trace-every 0
expect 2 '--k: this run would ignore it \(read with sketch rand-k, top-k or rand-k-c\)' run $QUAD --sketch rand-1 --k 3
expect 2 '--p: this run would ignore it \(read with sketch bernoulli\)' run $QUAD --p 0.3
expect 2 '--sketch: this run would ignore it \(not read by method gd' run $QUAD --method gd --stepsize gd --sketch rand-k
expect 2 '--stepsize-file: this run would ignore it \(read by stepsize user\)' run $QUAD --stepsize-file D.txt
expect 2 '--weight: this run would ignore it \(read by stepsize thm2 and cor1\)' run $QUAD --weight inv
expect 2 '--mode: this run would ignore it \(read by distributed runs' run $QUAD --mode mpi
expect 2 '--spec-min: this run would ignore it \(read by problems quad-nc and poly-nc\)' run --samples 10 --features 3 --spec-min 0.1
expect 2 '--checkpoint-every: this run would ignore it \(read with checkpoint\)' run $QUAD --checkpoint-every 5
expect 2 '--mc: the run command would ignore it \(read by theory\)' run $QUAD --mc 100
expect 2 '--trace: this theory command would ignore it \(read by run\)' theory --problem quad-nc --layers 2x4 --trace t.csv
expect 2 'plot: --lambda: the plot command reads no problem or run options' plot --out p.png a.csv --lambda 1
expect 0 'rand-k' theory --problem quad-nc --layers 2x4 --k 2 --q 0.5
expect 0 "^detcgd [0-9]+\.[0-9]+\.[0-9]+ \(commit ([0-9a-f]+|unknown), CUDA (on|off), MPI (on|off), OpenMP (on|off)\)$" --version
printf '[method]\nsketch = rand-1\nk = 3\n' > "$T/c.ini"
expect 2 "c.ini: k: this run would ignore it \(read with sketch rand-k, top-k or rand-k-c\)" run $QUAD --config "$T/c.ini"
printf '[run]\niters = many\n' > "$T/bad.ini"
expect 2 'bad.ini:2: iters: "many" is not an integer' run $QUAD --config "$T/bad.ini"
# config lines of any length: a long comment is not split into settings, a long value is read whole
{ printf '; %s iters = 7\n' "$(head -c 3000 /dev/zero | tr '\0' x)"; printf '[problem]\nproblem = quad-nc\n'
  printf 'layers = %s1\n' "$(for i in $(seq 400); do printf '1,'; done)"; printf 'lambda = 0.1 ; a comment\niters = 3\n'; } > "$T/long.ini"
"$DETCGD" run --config "$T/long.ini" --verbose 0 --progress 0 --f-inf 0 --summary "$T/long.json" > "$T/out" 2>&1 &&
  python3 -c "import json,sys; c=json.load(open(sys.argv[1]))['config']; sys.exit(not (c['iters'] == 3 and c['layers'].count('1') == 401 and c['lambda'] == 0.1))" "$T/long.json" &&
  echo "ok   config lines of 3000 and 800 characters" || { echo "FAIL long config lines"; cat "$T/out"; fail=1; }
printf '[run]\niters 5\n' > "$T/noeq.ini"
expect 2 'noeq.ini:2: syntax error' run $QUAD --config "$T/noeq.ini"
expect 0 '' run --config "$(dirname "$0")/../data/configs/quad-det1-randk.ini" --verbose 0 --progress 0 --iters 5 --f-inf 0
expect 0 '--q-list TEXT' help
# an experiment keeps its problem under an override and prints what it runs
expect 0 'problem = quad-nc' experiment demo --out "$T/demo" --iters 3 --lambda 0.2 --verbose 0 --progress 0
for want in 'layers = 8x32' 'lambda = 0.2' 'iters = 3'; do
  grep -q "$want" "$T/out" || { echo "FAIL experiment demo: no \"$want\" in its configuration"; cat "$T/out"; fail=1; }
done
# --replay SUMMARY: the run again, bit for bit; later options override it; its outputs are not reused
"$DETCGD" run $QUAD --sketch rand-k --k 2 --seed 7 --trace "$T/r1.csv" --summary "$T/r1.json" > /dev/null 2>&1
"$DETCGD" run --replay "$T/r1.json" --trace "$T/r2.csv" > "$T/out" 2>&1 &&
  diff <(cut -d, -f1-8 "$T/r1.csv") <(cut -d, -f1-8 "$T/r2.csv") > /dev/null && [ -s "$T/r1.json" ] &&
  echo "ok   run --replay SUMMARY repeats the run" || { echo "FAIL run --replay"; cat "$T/out"; fail=1; }
"$DETCGD" run --replay "$T/r1.json" --seed 8 --trace "$T/r3.csv" > /dev/null 2>&1
if diff <(cut -d, -f1-8 "$T/r1.csv") <(cut -d, -f1-8 "$T/r3.csv") > /dev/null; then echo "FAIL --replay then --seed 8: the same trace"; fail=1
else echo "ok   run --replay SUMMARY --seed 8 overrides the seed"; fi
expect 2 '--replay: the theory command would ignore it' theory --replay "$T/r1.json"
expect 3 'not a detcgd summary' run --replay "$(dirname "$0")/../data/tiny/quirks.svm"
# a paper experiment from another folder finds ../shared beside the repository through the program's path
if [ -f "$(dirname "$0")/../../shared/data/libsvm/a1a" ]; then
  (cd "$T" && "$DETCGD" experiment paper-rand1 --out "$T/pr1" --iters 3 --f-inf-iters 3 --verbose 0 --progress 0) > "$T/out" 2>&1 &&
    [ -s "$T/pr1/summary.csv" ] && echo "ok   experiment paper-rand1 from another folder" ||
    { echo "FAIL experiment paper-rand1 from another folder"; cat "$T/out"; fail=1; }
fi
# an experiment over seeds: per run the mean and its min-max band; a deterministic run's band is a line
expect 2 '--seeds: the run command would ignore it' run $QUAD --seeds 3
expect 2 '--seeds: "0" is not a seed count in 1..1000' experiment bernq-free --out "$T/bq" --seeds 0
expect 0 'seeds = 3 per run' experiment bernq-free --out "$T/bq" --seeds 3 --iters 40 --verbose 0 --progress 0
if python3 - "$T/bq" <<'PY'
import csv, sys
d = sys.argv[1]
def rows(name): return list(csv.DictReader(open(f"{d}/{name}.csv")))
exact, bern = rows("det-CGD2_no_compression"), rows("det-CGD2_Bern-q_0_25")
seeds = [rows(f"det-CGD2_Bern-q_0_25_seed{j}") for j in range(3)]
assert all(r["G_KD_min"] == r["G_KD_max"] for r in exact), "no compression: one curve"
assert any(float(r["G_KD_min"]) < float(r["G_KD_max"]) for r in bern), "Bern-q: the seeds differ"
for t, r in enumerate(bern):
    g = [float(s[t]["G_KD"]) for s in seeds]
    assert abs(float(r["G_KD_mean"]) - sum(g) / 3) <= 1e-12 * max(g), (t, r, g)
    assert float(r["G_KD_min"]) == min(g) and float(r["G_KD_max"]) == max(g), (t, r, g)
    assert abs(float(r["bits_up_mean"]) - sum(float(s[t]["bits_up"]) for s in seeds) / 3) < 1e-6
table = list(csv.DictReader(open(f"{d}/summary.csv")))
assert all(r["seeds"] == "3" for r in table)
PY
then echo "ok   experiment bernq-free --seeds 3: bands are the seeds' mean, min and max"
else echo "FAIL experiment bernq-free --seeds 3 bands"; fail=1; fi
# the l-inf geometry: per layer from theory --geometry on, and in the summary unless --geometry off
expect 0 '    1       24 .* bounds ' theory --problem quad-nc --layers 2x24 --lambda 0.1 --geometry on
"$DETCGD" run $QUAD --summary "$T/g.json" && "$DETCGD" run $QUAD --summary "$T/g0.json" --geometry off &&
  python3 -c "import json,sys; g=json.load(open(sys.argv[1]))['geometry']; assert g['Linf_lower'] <= g['Linf_upper'] and g['d_L2_over_Linf_lower'] >= g['rho_lambda_max_over_lambda_bar'] * (1 - 1e-12); assert 'geometry' not in json.load(open(sys.argv[2]))" "$T/g.json" "$T/g0.json" &&
  echo "ok   summary geometry (and --geometry off leaves it out)" || { echo "FAIL summary geometry"; fail=1; }
# sign methods: no matrix stepsize (its options refused), their own step option, no distributed form
expect 0 '' run $QUAD --method sign-gd --sign-step 0.01
expect 2 '--stepsize: this run would ignore it \(not read by a method without a matrix stepsize' run $QUAD --method sign-gd --stepsize thm2
expect 2 '--sign-step: this run would ignore it \(read by method sign-gd, sign-mv or signum\)' run $QUAD --method scaled-sign-gd --sign-step 0.1
expect 2 'method: scaled-sign-gd has no distributed form' run --samples 40 --features 6 --clients 2 --method scaled-sign-gd --iters 3
# plots: hostile labels and paths are escaped, gnuplot starts without a shell (nothing below may run), the PNG is
# sane; two traces with one label are one curve over seeds (mean and band); the metric and axis choices
"$DETCGD" run $QUAD --iters 60 --trace-every 5 --trace "$T/p1.csv" > /dev/null 2>&1
"$DETCGD" run $QUAD --iters 60 --trace-every 5 --trace "$T/p2.csv" --seed 2 > /dev/null 2>&1
hostile="it's \$(touch $T/shell1) \`touch $T/shell2\`'; system('touch $T/pwned'); print '"
png="$T/odd '\$(touch shell3)'.png"
expect 0 "" plot --out "$png" "$T/p1.csv=$hostile" "$T/p2.csv=$hostile" "$T/p1.csv=GD_{x}^2 & co" \
  --metric gkd,grad2,f-gap,grad1 --x iter,bits,time --title "a 'title' with \\ and ^{x}"
if [ -f "$png" ] && [ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' ')" = "89504e470d0a1a0a" ] &&
   [ "$(stat -c %s "$png")" -gt 40000 ] && [ "$(stat -c %s "$png")" -lt 5000000 ] &&
   [ ! -e "$T/shell1" ] && [ ! -e "$T/shell2" ] && [ ! -e shell3 ] && [ ! -e "$T/pwned" ] &&
   grep -Fq "it''s" "$png.gp" && grep -Fq "(2 seeds)" "$png.gp" && grep -Fq "(over seeds: geometric mean, min-max band)" "$png.gp" && grep -q "filledcurves" "$png.gp" &&
   [ "$(grep -c '^\$s[0-9]* << EOD' "$png.gp")" -eq 2 ]; then
  echo "ok   plot: hostile labels escaped, no shell, a PNG of $(stat -c %s "$png") bytes, seeds as one band"
else
  echo "FAIL plot with hostile labels (PNG, escaping, shell or band)"; ls -la "$T"; fail=1
fi
expect 2 '--metric: "gkdd" is not one of gkd, grad2, f-gap, grad1, dist2' plot --out "$T/q.png" "$T/p1.csv" --metric gkdd
expect 2 '--bits-axis: "lin" is not log or linear' plot --out "$T/q.png" "$T/p1.csv" --bits-axis lin
expect 2 '--metric: the run command would ignore it \(read by plot experiment sweep\)' run $QUAD --metric gkd
expect 3 'has no column dist2 \(runs with optimum solve have it\)' plot --out "$T/q.png" "$T/p1.csv" --metric dist2
expect 3 'cannot read' plot --out "$T/q.png" "$T/missing.csv"
# a run of one iteration has sent no bits: its bits panels say so (gnuplot's autoscale failed on them)
expect 0 "" run $QUAD --iters 1 --trace "$T/one.csv" --summary "$T/one.json"
expect 0 "" plot --out "$T/one.png" "$T/one.csv"
if [ "$(head -c 8 "$T/one.png" | od -An -tx1 | tr -d ' ')" = "89504e470d0a1a0a" ] && grep -q "no points to show" "$T/one.png.gp"
then echo "ok   plot of a one-iteration trace: a PNG, its bits panels marked empty"
else echo "FAIL plot of a one-iteration trace"; fail=1; fi

# sweep: the grid's product over seeds, a row per run, each trace the one `detcgd run` gives alone (bit for bit but
# time), iterations-to-eps from the trace, a refused configuration named before anything runs, grids from a file
SW="--problem quad-nc --layers 2x4 --lambda 0.1 --iters 200 --trace-every 10 --verbose 0 --progress 0 --method det-cgd1 --stepsize thm2"
expect 0 "runs: $T/sw/runs.csv" sweep --out "$T/sw" $SW --grid "sketch=rand-1|sketch=rand-k k=2" --grid "weight=diag-inv|identity" --seeds 3-4 --eps2 1e-2
"$DETCGD" run $SW --sketch rand-k --k 2 --weight identity --seed 4 --trace "$T/alone.csv" > /dev/null 2>&1
if [ "$(($(wc -l < "$T/sw/runs.csv") - 1))" -eq 8 ] && [ -s "$T/sw/plot.png" ] &&
   diff <(cut -d, -f1-12 "$T/alone.csv") <(cut -d, -f1-12 "$T/sw/sketch_rand-k_k_2_weight_identity_seed4.csv") > /dev/null &&
   python3 - "$T/sw/runs.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert [r["seed"] for r in rows] == ["3", "4"] * 4, rows
for r in rows:
    trace = list(csv.DictReader(open(r["trace"])))
    first = next((t for t in trace if float(t["G_KD"]) <= 1e-2), None)
    assert (r["iters_to_eps"] == "") == (first is None) and (first is None or (r["iters_to_eps"], r["bits_to_eps"]) == (first["iter"], first["bits_up"])), r
    assert float(r["G_KD"]) > 0 and r["grid1"] in ("sketch=rand-1", "sketch=rand-k k=2"), r
PY
then echo "ok   sweep: 8 rows, the trace of a run alone, iterations- and bits-to-eps from the traces"
else echo "FAIL sweep rows, traces or eps columns"; cat "$T/sw/runs.csv"; fail=1; fi
# a configuration's seeds together in one pass (logreg-nc: their gradients from one pass over the rows) give the
# traces and rows they give one after another, but for the time
LR="--samples 300 --features 24 --density 0.3 --nlayers 3 --lambda 0.1 --iters 150 --trace-every 10 --verbose 0 --progress 0 --method det-cgd2 --sketch rand-1 --stepsize det2-opt"
expect 0 "runs: $T/swt/runs.csv" sweep --out "$T/swt" $LR --grid "sketch=rand-1|identity" --seeds 1-5
expect 0 "runs: $T/sw1/runs.csv" sweep --out "$T/sw1" $LR --grid "sketch=rand-1|identity" --seeds 1-5 --together 1
same=1
for f in "$T"/sw1/*_seed*.csv; do
  diff <(sed 's/,[^,]*$//' "$f") <(sed 's/,[^,]*$//' "$T/swt/$(basename "$f")") > /dev/null || same=0  # all but time_s
done
if [ $same = 1 ] && [ "$(ls "$T"/sw1/*_seed*.csv | wc -l)" -eq 10 ] &&
   diff <(cut -d, -f1-11 "$T/sw1/runs.csv") <(cut -d, -f1-11 "$T/swt/runs.csv") > /dev/null  # all but seconds, trace
then echo "ok   sweep --together: 10 runs, 5 seeds together = one after another (traces and rows but time)"
else echo "FAIL sweep --together differs from one after another"; fail=1; fi
expect 2 '--together: "0" is not a run count in 1..64' sweep --out "$T/sw2" $LR --together 0
expect 2 '--together: the run command would ignore it \(read by sweep\)' run $LR --together 4
expect 2 'configuration 1 \(sketch=rand-1 k=2\) is refused' sweep --out "$T/sw2" $SW --grid "sketch=rand-1|rand-k" --grid "k=2|4"
expect 2 '--seeds: "4-2" is not N' sweep --out "$T/sw2" $SW --seeds 4-2
expect 2 '"sketch" is not KEY=VALUE' sweep --out "$T/sw2" $SW --grid "k=2|sketch rand-1"
expect 2 '--grid: the run command would ignore it \(read by sweep\)' run $SW --grid "k=1|2"
printf 'problem = quad-nc\nlayers = 2x4\niters = 50\ngrid = seed=1|2|3\n' > "$T/sweep.ini"
expect 0 "3 configuration\(s\) x 1 seed" sweep --out "$T/sw3" --config "$T/sweep.ini" --verbose 0 --progress 0

# sign-geometry: a row per problem, the prediction from the geometry, the observed gaps and the plot
expect 0 'the predicted winner is the observed one on [0-9]+ of [58] problems' experiment sign-geometry --out "$T/sg" --iters 40
python3 - "$T/sg/summary.csv" <<'PY' && [ -s "$T/sg/plot.png" ] && echo "ok   sign-geometry table and plot" || { echo "FAIL sign-geometry table"; fail=1; }
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) in (5, 8), len(rows)  # the five quadratics, and the three LIBSVM files when ../shared holds them
for r in rows:
    assert abs(float(r["predicted"]) - float(r["phi0"]) * float(r["d_L2_over_Linf"])) <= 1e-4 * float(r["predicted"]), r
    assert abs(float(r["observed"]) - float(r["gap_gd"]) / float(r["gap_scaled_sign"])) <= 1e-4 * float(r["observed"]), r
    assert float(r["Linf_lower"]) <= float(r["Linf_upper"]) and 0 < float(r["phi0"]) <= 1, r
    assert r["predicted_winner"] == ("sign" if float(r["predicted"]) > 1 else "gd"), r
PY
# data through a pipe
"$DETCGD" run --data /dev/stdin --lambda 0.1 --iters 5 --verbose 0 --progress 0 --f-inf-iters 5 \
  < "$(dirname "$0")/../data/tiny/quirks.svm" > "$T/out" 2>&1 && echo "ok   run --data /dev/stdin < file" ||
  { echo "FAIL run --data /dev/stdin"; cat "$T/out"; fail=1; }
expect 3 'is a directory, not a LIBSVM file' run --data "$T" --lambda 0.1
expect 2 'trace: .* is the data file' run --data "$(dirname "$0")/../data/tiny/quirks.svm" --trace "$(dirname "$0")/../data/tiny/quirks.svm"
# Ctrl-C: the run stops after an iteration, writes its trace, summary and a checkpoint, exits 130; resumed,
# it gives the uninterrupted run's trace
LONG="--problem quad-nc --layers 8x32 --lambda 0.1 --trace-every 100 --verbose 0 --progress 0 --f-inf 0"
"$DETCGD" run $LONG --iters 100000000 --trace "$T/i.csv" --summary "$T/i.json" --checkpoint "$T/i.ck" \
  --checkpoint-every 1000000000 > "$T/out" 2>&1 &
pid=$!
sleep 1
kill -INT $pid
wait $pid
rc=$?
K=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['result']; print(r['iterations'] if r['termination'] == 'interrupted' else -1)" "$T/i.json" 2>/dev/null || echo -1)
if [ $rc -eq 130 ] && [ "$K" -gt 0 ] && [ -s "$T/i.ck" ] && grep -q "interrupted after $K iterations; written: the trace the summary the checkpoint" "$T/out"; then
  echo "ok   SIGINT: exit 130 after $K iterations, summary and checkpoint written"
  "$DETCGD" run $LONG --iters $((K + 500)) --resume "$T/i.ck" --trace "$T/i.csv" > "$T/out" 2>&1 || { echo "FAIL resume"; cat "$T/out"; fail=1; }
  "$DETCGD" run $LONG --iters $((K + 500)) --trace "$T/full.csv" > "$T/out" 2>&1 || { echo "FAIL uninterrupted run"; fail=1; }
  if diff <(cut -d, -f1-8 "$T/i.csv") <(cut -d, -f1-8 "$T/full.csv") > /dev/null; then echo "ok   interrupted + resumed = uninterrupted"
  else echo "FAIL interrupted + resumed != uninterrupted"; fail=1; fi
else
  echo "FAIL SIGINT (rc $rc, iterations $K)"; cat "$T/out"; fail=1
fi
}
exit $fail
