"""The shared library libdetcgd.so through ctypes: where it is found and the prototypes of include/detcgd.h used here.

The problem spec and the settings are held as opaque buffers of the library's own sizes and set by key, exactly as the
command line and config files set them (one option table in C); only the flat structs below are mirrored.
"""
import ctypes
import os

_HERE = os.path.dirname(os.path.abspath(__file__))


def _find_library():
    """$DETCGD_LIBRARY, else the libdetcgd.so installed beside this file (pip install)."""
    given = os.environ.get("DETCGD_LIBRARY")
    candidates = [given] if given else [os.path.join(_HERE, "libdetcgd.so")]
    for path in candidates:
        if path and os.path.exists(path):
            return path
    raise ImportError("detcgd: libdetcgd.so not found (looked at %s); install the package with `pip install .` from "
                      "the repository, or set DETCGD_LIBRARY to a built libdetcgd.so" % ", ".join(candidates))


class Data(ctypes.Structure):
    """DetcgdData: CSR rows (indptr != NULL) or dense row-major rows, and labels."""
    _fields_ = [("nrows", ctypes.c_int64), ("ncols", ctypes.c_int64),
                ("indptr", ctypes.POINTER(ctypes.c_int64)), ("indices", ctypes.POINTER(ctypes.c_int32)),
                ("values", ctypes.POINTER(ctypes.c_double)), ("labels", ctypes.POINTER(ctypes.c_double))]


class Theory(ctypes.Structure):
    """DetcgdTheory."""
    _fields_ = [("certificate", ctypes.c_double), ("log_det", ctypes.c_double), ("det_factor", ctypes.c_double),
                ("coords_per_iter", ctypes.c_double), ("comm_factor", ctypes.c_double),
                ("bits_per_iter", ctypes.c_double), ("step", ctypes.c_double), ("step_source", ctypes.c_char_p)]


TRACE_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_char_p),
                            ctypes.POINTER(ctypes.c_double))

lib = ctypes.CDLL(_find_library())

_P, _I, _I64, _D, _S = ctypes.c_void_p, ctypes.c_int, ctypes.c_int64, ctypes.c_double, ctypes.c_char_p
_PROTOTYPES = {
    "detcgd_version": (_S, []),
    "detcgd_build_info": (_S, []),
    "detcgd_status_str": (_S, [_I]),
    "detcgd_last_error": (_S, []),
    "detcgd_problem_spec_size": (ctypes.c_size_t, []),
    "detcgd_settings_size": (ctypes.c_size_t, []),
    "detcgd_problem_spec_default": (None, [_P]),
    "detcgd_settings_default": (None, [_P]),
    "detcgd_set": (_I, [_P, _P, _S, _S]),
    "detcgd_option_unread": (_S, [_P, _P, _S, _I]),
    "detcgd_problem_create": (_I, [ctypes.POINTER(_P), _P]),
    "detcgd_problem_from_data": (_I, [ctypes.POINTER(_P), _P, ctypes.POINTER(Data)]),
    "detcgd_problem_destroy": (None, [ctypes.POINTER(_P)]),
    "detcgd_read_libsvm": (_I, [_S, ctypes.POINTER(Data)]),
    "detcgd_data_free": (None, [ctypes.POINTER(Data)]),
    "detcgd_create": (_I, [ctypes.POINTER(_P), _P, _P]),
    "detcgd_run": (_I, [_P]),
    "detcgd_run_many": (_I, [ctypes.POINTER(_P), _I]),
    "detcgd_f_inf": (_D, [_P]),
    "detcgd_destroy": (None, [ctypes.POINTER(_P)]),
    "detcgd_get_x": (_I, [_P, ctypes.POINTER(_D)]),
    "detcgd_set_trace_callback": (_I, [_P, TRACE_FN, _P]),
    "detcgd_trace_columns": (_I, [_P, ctypes.POINTER(ctypes.POINTER(_S))]),
    "detcgd_trace_rows": (ctypes.POINTER(_D), [_P, ctypes.POINTER(_I64)]),
    "detcgd_summary_json": (_S, [_P]),
    "detcgd_theory": (_I, [_P, _P, ctypes.POINTER(Theory)]),
    "detcgd_request_stop": (None, []),
    "detcgd_clear_stop": (None, []),
}
for _name, (_restype, _argtypes) in _PROTOTYPES.items():
    _fn = getattr(lib, _name)
    _fn.restype = _restype
    _fn.argtypes = _argtypes

DETCGD_OK = 0
DETCGD_CMD_RUN = 1
DETCGD_CMD_THEORY = 2
