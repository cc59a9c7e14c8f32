"""detcgd from Python: det-CGD and its family of compressed gradient methods on the C/CUDA engine.

    import detcgd
    X, y = detcgd.load_libsvm("a1a")                     # scipy.sparse CSR rows and labels -1 / +1
    run = detcgd.run(X, y, method="det-cgd1", sketch="rand-1", stepsize="thm2", iters=3000, seed=1)
    run.trace          # one row per trace point: a pandas DataFrame (a NumPy structured array without pandas)
    run.summary        # the summary JSON as a dict: config, theory (certificate, det factor, bounds), result
    run.x              # the final iterate
    detcgd.theory(X, y, method="det-cgd1", sketch="rand-k", k=3, nlayers=4)   # Table-1 factors, no iterations
    runs = detcgd.run_many(X, y, [{"seed": s} for s in range(1, 17)], method="det-cgd2", sketch="rand-1",
                           stepsize="det2-opt")      # 16 runs together: one pass over the rows per iteration

Options are the command line's (`detcgd help`), with `_` for `-` (k_ratio=0.1 is --k-ratio 0.1); they are checked by
the same table, and an option the run would ignore is refused. The same seed gives the CLI's trace bit for bit.
"""
import ctypes
import json

import numpy as np

from . import _native
from ._native import lib

__all__ = ["DetcgdError", "Run", "run", "run_many", "theory", "load_libsvm", "version", "build_info"]

_INT_COLUMNS = ("iter", "coords_sent", "bits_up", "bits_down", "samples")


class DetcgdError(RuntimeError):
    """A detcgd status other than ok: `status` (the code), `status_name` and detcgd's message."""

    def __init__(self, status, message):
        self.status = status
        self.status_name = lib.detcgd_status_str(status).decode()
        self.message = message
        super().__init__("%s (%s)" % (message, self.status_name))


def _check(status):
    if status != _native.DETCGD_OK:
        raise DetcgdError(status, (lib.detcgd_last_error() or b"").decode())


def version():
    """The library's version ("0.1.0")."""
    return lib.detcgd_version().decode()


def build_info():
    """The library's build: commit, CUDA, MPI, OpenMP."""
    return lib.detcgd_build_info().decode()


class Run:
    """One finished run: `trace` (DataFrame or structured array), `summary` (dict), `x` (final iterate)."""

    def __init__(self, trace, summary, x):
        self.trace, self.summary, self.x = trace, summary, x

    def __repr__(self):
        r = self.summary.get("result", {})
        return "<detcgd.Run %s: %s after %s iterations, G_KD %s>" % (
            self.summary.get("label") or self.summary.get("config", {}).get("method"), r.get("termination"),
            r.get("iterations"), r.get("G_KD", r.get("g_kd")))


def _option_text(value):
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


class _Config:
    """A problem spec and settings as the library's own buffers, set key by key."""

    def __init__(self, options, command):
        self.spec = ctypes.create_string_buffer(lib.detcgd_problem_spec_size())
        self.settings = ctypes.create_string_buffer(lib.detcgd_settings_size())
        lib.detcgd_problem_spec_default(self.spec)
        lib.detcgd_settings_default(self.settings)
        given = {"verbose": 0, "progress": 0}
        given.update(options)
        keys = []
        for name, value in given.items():
            key = name.replace("_", "-")
            if value is None:
                continue
            _check(lib.detcgd_set(self.spec, self.settings, key.encode(), _option_text(value).encode()))
            keys.append(key)
        for key in keys:
            if key in ("verbose", "progress"):
                continue
            why = lib.detcgd_option_unread(self.spec, self.settings, key.encode(), command)
            if why:
                raise DetcgdError(1, "%s: this %s would ignore it (%s)" % (
                    key.replace("-", "_"), "run" if command == _native.DETCGD_CMD_RUN else "theory", why.decode()))


class _Problem:
    """A DetcgdProblem from arrays (CSR or dense rows), a LIBSVM path or a generator (problem=quad-nc, ...)."""

    def __init__(self, config, X, y):
        self.handle = ctypes.c_void_p()
        if X is None:
            if y is not None:
                raise DetcgdError(1, "y given without X")
            _check(lib.detcgd_problem_create(ctypes.byref(self.handle), config.spec))
            return
        if y is None:
            raise DetcgdError(1, "X given without labels y")
        data, self._keep = _as_data(X, y)
        _check(lib.detcgd_problem_from_data(ctypes.byref(self.handle), config.spec, ctypes.byref(data)))

    def __del__(self):
        if getattr(self, "handle", None) is not None and self.handle:
            lib.detcgd_problem_destroy(ctypes.byref(self.handle))


def _pointer(array, ctype):
    return array.ctypes.data_as(ctypes.POINTER(ctype))


def _as_data(X, y):
    """DetcgdData over X (scipy.sparse matrix or 2-d array) and y; the arrays it points into (kept alive)."""
    labels = np.ascontiguousarray(np.asarray(y, dtype=np.float64).ravel())
    if hasattr(X, "tocsr"):  # scipy.sparse
        csr = X.tocsr()
        if not csr.has_sorted_indices:
            csr = csr.sorted_indices()
        nrows, ncols = csr.shape
        indptr = np.ascontiguousarray(csr.indptr, dtype=np.int64)
        indices = np.ascontiguousarray(csr.indices, dtype=np.int32)
        values = np.ascontiguousarray(csr.data, dtype=np.float64)
        keep = (labels, indptr, indices, values)
        data = _native.Data(nrows, ncols, _pointer(indptr, ctypes.c_int64), _pointer(indices, ctypes.c_int32),
                            _pointer(values, ctypes.c_double), _pointer(labels, ctypes.c_double))
    else:
        dense = np.ascontiguousarray(np.asarray(X, dtype=np.float64))
        if dense.ndim != 2:
            raise DetcgdError(1, "X: a 2-d array or a scipy.sparse matrix, not %d-d" % dense.ndim)
        nrows, ncols = dense.shape
        keep = (labels, dense)
        data = _native.Data(nrows, ncols, None, None, _pointer(dense, ctypes.c_double), _pointer(labels, ctypes.c_double))
    if labels.shape[0] != nrows:
        raise DetcgdError(1, "y: %d labels for %d rows of X" % (labels.shape[0], nrows))
    return data, keep


def _table(names, rows):
    try:
        import pandas
    except ImportError:
        pandas = None
    columns = {n: (rows[:, j].astype(np.int64) if n in _INT_COLUMNS else rows[:, j].copy()) for j, n in enumerate(names)}
    if pandas is not None:
        return pandas.DataFrame(columns)
    table = np.empty(rows.shape[0], dtype=[(n, columns[n].dtype) for n in names])
    for n in names:
        table[n] = columns[n]
    return table


def run(X=None, y=None, *, on_row=None, **options):
    """Runs one method; returns a Run (trace, summary, x).

    X, y: the rows (scipy.sparse or a 2-d array) and labels of a logreg-nc problem; or leave them out and give
    data="path/to/libsvm" or problem="quad-nc", layers="16x64", ...  on_row(dict) is called at each trace row.
    """
    config = _Config(options, _native.DETCGD_CMD_RUN)
    problem = _Problem(config, X, y)
    solver = ctypes.c_void_p()
    _check(lib.detcgd_create(ctypes.byref(solver), problem.handle, config.settings))
    try:
        failure = []

        def each_row(_user, ncols, names, row):
            try:
                on_row({names[j].decode(): row[j] for j in range(ncols)})
            except BaseException as e:  # an exception cannot cross the C frames: stop the run, raise it after
                failure.append(e)
                lib.detcgd_request_stop()

        callback = _native.TRACE_FN(each_row) if on_row is not None else _native.TRACE_FN()
        _check(lib.detcgd_set_trace_callback(solver, callback, None))
        lib.detcgd_clear_stop()
        status = lib.detcgd_run(solver)
        lib.detcgd_clear_stop()
        if failure:
            raise failure[0]
        _check(status)
        return _outcome(solver)
    finally:
        lib.detcgd_destroy(ctypes.byref(solver))


def _outcome(solver):
    """A finished solver's Run: its trace rows, summary and x."""
    names_p = ctypes.POINTER(ctypes.c_char_p)()
    ncols = lib.detcgd_trace_columns(solver, ctypes.byref(names_p))
    names = [names_p[j].decode() for j in range(ncols)]
    nrows = ctypes.c_int64()
    rows_p = lib.detcgd_trace_rows(solver, ctypes.byref(nrows))
    rows = np.ctypeslib.as_array(rows_p, shape=(nrows.value, ncols)).copy() if nrows.value else np.empty((0, ncols))
    summary = json.loads(lib.detcgd_summary_json(solver).decode())
    x = np.empty(int(summary["derived"]["dim"]), dtype=np.float64)
    _check(lib.detcgd_get_x(solver, _pointer(x, ctypes.c_double)))
    return Run(_table(names, rows), summary, x)


def run_many(X=None, y=None, runs=(), **options):
    """Runs together on one problem (detcgd_run_many); returns their Runs in order.

    runs: a list of dicts, each run's own options on top of the common ones (seeds, methods, sketches, stepsizes;
    not the problem's, which all share).  Each Run equals run(X, y, **options, **runs[i]) but for the times; on
    logreg-nc (CPU) the runs' gradients come from one pass over the rows per iteration.
    """
    runs = list(runs)
    if not runs:
        raise DetcgdError(1, "run_many: no runs given")
    configs = [_Config(dict(options, **own), _native.DETCGD_CMD_RUN) for own in runs]
    for i, config in enumerate(configs[1:], 1):
        if config.spec.raw != configs[0].spec.raw:
            raise DetcgdError(1, "run_many: run %d sets the problem (%s) unlike run 0: runs together share one problem"
                              % (i, ", ".join(sorted(runs[i]))))
    problem = _Problem(configs[0], X, y)
    solvers = [ctypes.c_void_p() for _ in configs]
    try:
        for i, config in enumerate(configs):
            if i > 0 and "f_inf" not in runs[i] and "f_inf" not in options:  # run 0's f^inf, as the CLI's sweeps do
                _check(lib.detcgd_set(config.spec, config.settings, b"f-inf", repr(lib.detcgd_f_inf(solvers[0])).encode()))
            _check(lib.detcgd_create(ctypes.byref(solvers[i]), problem.handle, config.settings))
        lib.detcgd_clear_stop()
        status = lib.detcgd_run_many((ctypes.c_void_p * len(solvers))(*[h.value for h in solvers]), len(solvers))
        lib.detcgd_clear_stop()
        _check(status)
        return [_outcome(h) for h in solvers]
    finally:
        for h in solvers:
            lib.detcgd_destroy(ctypes.byref(h))


def theory(X=None, y=None, **options):
    """The stepsize's factors without iterations (`detcgd theory`): certificate, log det D, det(D)^(-1/d),
    coordinates and bits per iteration, and a scalar method's step with its source."""
    config = _Config(options, _native.DETCGD_CMD_THEORY)
    problem = _Problem(config, X, y)
    t = _native.Theory()
    _check(lib.detcgd_theory(problem.handle, config.settings, ctypes.byref(t)))
    out = {name: getattr(t, name) for name, _ in _native.Theory._fields_}
    out["step_source"] = t.step_source.decode() if t.step_source else None
    return out


def load_libsvm(path):
    """A LIBSVM file (plain or gzip) as (scipy.sparse.csr_matrix X, labels y in {-1, +1}); without SciPy the CSR
    arrays (indptr, indices, values, shape) in place of X."""
    data = _native.Data()
    _check(lib.detcgd_read_libsvm(str(path).encode(), ctypes.byref(data)))
    try:
        n, nnz = data.nrows, data.indptr[data.nrows]
        indptr = np.ctypeslib.as_array(data.indptr, shape=(n + 1,)).copy()
        indices = np.ctypeslib.as_array(data.indices, shape=(nnz,)).copy() if nnz else np.empty(0, np.int32)
        values = np.ctypeslib.as_array(data.values, shape=(nnz,)).copy() if nnz else np.empty(0)
        y = np.ctypeslib.as_array(data.labels, shape=(n,)).copy()
        shape = (n, data.ncols)
    finally:
        lib.detcgd_data_free(ctypes.byref(data))
    try:
        import scipy.sparse
    except ImportError:
        return (indptr, indices, values, shape), y
    return scipy.sparse.csr_matrix((values, indices, indptr), shape=shape), y
