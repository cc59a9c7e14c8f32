"""The Python package against the CLI and the C library: same seed, same trace; arrays in, DataFrames out; errors as
exceptions carrying detcgd's message. Run by tests/python_check.sh (ctest python_package)."""
import csv
import os
import subprocess

import numpy as np
import pytest
import scipy.sparse

import detcgd

A1A = os.path.join(os.environ.get("DETCGD_SHARED_DATA", "../shared/data/libsvm"), "a1a")
CLI = os.environ.get("DETCGD_CLI", "build/detcgd")
RUN = dict(method="det-cgd1", sketch="rand-k", k=2, stepsize="thm2", weight="diag-inv", nlayers=4, iters=300,
           trace_every=10, seed=5)


def cli_trace(tmp_path, **options):
    path = tmp_path / "cli.csv"
    args = [CLI, "run", "--trace", str(path), "--verbose", "0", "--progress", "0"]
    for key, value in options.items():
        args += ["--" + key.replace("_", "-"), str(value)]
    subprocess.run(args, check=True)
    with open(path) as f:
        rows = list(csv.reader(f))
    return rows[0], np.array([[float(v) for v in r] for r in rows[1:]])


@pytest.fixture(scope="module")
def a1a():
    if not os.path.exists(A1A):
        pytest.skip("../shared/data/libsvm/a1a not present")
    return detcgd.load_libsvm(A1A)


def test_version():
    assert detcgd.version() == "0.1.0"
    assert detcgd.build_info().startswith("commit ")


def test_load_libsvm(a1a):
    X, y = a1a
    assert scipy.sparse.isspmatrix_csr(X) and X.shape == (1605, 119)
    assert set(np.unique(y)) == {-1.0, 1.0}
    assert X.nnz == 22249


def test_same_seed_same_trace_as_the_cli(a1a, tmp_path):
    """A SciPy CSR matrix in Python and the file through the CLI: every column but the time, bit for bit."""
    names, cli = cli_trace(tmp_path, data=A1A, **RUN)
    X, y = a1a
    run = detcgd.run(X, y, **RUN)
    assert list(run.trace.columns) == names
    np.testing.assert_array_equal(run.trace.drop(columns="time_s").to_numpy(dtype=float), cli[:, :-1])
    assert run.summary["result"]["iterations"] == 300
    assert run.summary["result"]["G_KD"] == run.trace["G_KD"].iloc[-1]
    assert run.x.shape == (119,)
    # the file given by path in Python: the same again
    by_path = detcgd.run(data=A1A, **RUN)
    np.testing.assert_array_equal(by_path.trace.drop(columns="time_s"), run.trace.drop(columns="time_s"))


def test_seeds_differ_and_repeat(a1a):
    X, y = a1a
    a, b, c = (detcgd.run(X, y, **dict(RUN, seed=s)) for s in (1, 1, 2))
    assert a.trace["f"].equals(b.trace["f"])
    assert not a.trace["f"].equals(c.trace["f"])


def test_dense_rows_equal_csr():
    rng = np.random.default_rng(3)
    dense = rng.standard_normal((60, 10)) * (rng.random((60, 10)) < 0.4)
    y = np.where(rng.random(60) < 0.5, 1, 0)  # any two labels: the larger maps to +1
    options = dict(method="det-cgd2", sketch="bern-q", q=0.5, stepsize="det2-opt", layers="4,6", iters=100, seed=2)
    from_dense = detcgd.run(dense, y, **options)
    from_csr = detcgd.run(scipy.sparse.csr_matrix(dense), y, **options)
    np.testing.assert_array_equal(from_dense.trace.drop(columns="time_s"), from_csr.trace.drop(columns="time_s"))
    np.testing.assert_array_equal(from_dense.x, from_csr.x)


def test_unsorted_csr_and_other_formats(a1a):
    X, y = a1a
    base = detcgd.run(X, y, **RUN).trace.drop(columns="time_s")
    for other in (X.tocsc(), X.tocoo()):
        np.testing.assert_array_equal(detcgd.run(other, y, **RUN).trace.drop(columns="time_s"), base)


def test_on_row_sees_every_row_and_can_stop():
    rows = []
    run = detcgd.run(problem="quad-nc", layers="2x4", iters=50, trace_every=5, on_row=rows.append)
    assert len(rows) == len(run.trace) == 11
    assert rows[-1]["iter"] == 49 and rows[3]["G_KD"] == run.trace["G_KD"].iloc[3]

    def stop(row):
        if row["iter"] >= 20:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        detcgd.run(problem="quad-nc", layers="2x4", iters=10**7, trace_every=5, on_row=stop)


def test_theory_matches_the_run(a1a):
    X, y = a1a
    t = detcgd.theory(X, y, method="det-cgd1", sketch="rand-k", k=2, stepsize="thm2", weight="diag-inv", nlayers=4)
    run = detcgd.run(X, y, **RUN)
    assert t["det_factor"] == pytest.approx(run.summary["theory"]["det_factor"], rel=1e-12)
    assert t["certificate"] <= 1.0 + 1e-12
    assert t["coords_per_iter"] == 8.0  # k = 2 per layer, 4 layers


def test_errors_carry_detcgds_message(a1a):
    X, y = a1a
    with pytest.raises(detcgd.DetcgdError, match='unknown option "sketchy"'):
        detcgd.run(X, y, sketchy=1)
    with pytest.raises(detcgd.DetcgdError, match="k: this run would ignore it"):
        detcgd.run(X, y, sketch="rand-1", k=3)
    with pytest.raises(detcgd.DetcgdError, match="lambda") as e:
        detcgd.run(X, y, **{"lambda": "x"})
    assert e.value.status == 1 and e.value.status_name == "invalid argument"
    bad = scipy.sparse.csr_matrix((np.array([1.0, np.nan]), np.array([0, 1]), np.array([0, 1, 2])), shape=(2, 2))
    with pytest.raises(detcgd.DetcgdError, match="row 1, column 1: value nan is not finite"):
        detcgd.run(bad, [0, 1])
    with pytest.raises(detcgd.DetcgdError, match="3 labels for 2 rows"):
        detcgd.run(bad, [0, 1, 1])
    with pytest.raises(detcgd.DetcgdError, match="cannot open"):
        detcgd.load_libsvm("/nonexistent/a1a")


def test_run_many_equals_each_run_alone(a1a):
    """Seeds and methods together on a1a: each Run's trace (but the time) and x are run()'s alone, bit for bit."""
    X, y = a1a
    common = dict(nlayers=4, iters=200, trace_every=10)
    runs = [dict(method="det-cgd2", sketch="rand-1", stepsize="det2-opt", seed=s) for s in (1, 2, 3)]
    runs += [dict(method="gd", seed=4), dict(method="ef21", sketch="top-k", k=3, seed=5, iters=90)]
    together = detcgd.run_many(X, y, runs, **common)
    assert len(together) == len(runs)
    for own, got in zip(runs, together):
        alone = detcgd.run(X, y, **dict(common, **own))
        np.testing.assert_array_equal(got.trace.drop(columns="time_s").to_numpy(dtype=float),
                                      alone.trace.drop(columns="time_s").to_numpy(dtype=float))
        np.testing.assert_array_equal(got.x, alone.x)
        assert got.summary["result"]["iterations"] == own.get("iters", 200)
    assert together[0].summary["result"]["G_KD"] != together[1].summary["result"]["G_KD"]  # the seeds differ


def test_run_many_refuses_runs_on_other_problems(a1a):
    X, y = a1a
    with pytest.raises(detcgd.DetcgdError, match="run 1 sets the problem"):
        detcgd.run_many(X, y, [dict(seed=1), {"seed": 2, "lambda": 0.2}], nlayers=4, iters=5)
    with pytest.raises(detcgd.DetcgdError, match="no runs"):
        detcgd.run_many(X, y, [], iters=5)
