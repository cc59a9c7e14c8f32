# The CUDA kernel sources rewritten as C++ for the CPU emulation of the CUDA runtime (device.h):
#   k<<<grid, block, shared, stream>>>(args)   ->  dc_emu::launch(k, grid, block, shared, stream)(args)
#   extern __shared__ T name[];               ->  T* name = (T*)dc_emu::dynamic_shared();
#   __shared__ T name[n];                     ->  the same, then dc_emu::fresh_shared(&name, sizeof name);
# Line numbers are kept, and #line names the original file in diagnostics.
# Usage: cmake -DIN=<file.cu> -DOUT=<file.cc> -P translate.cmake
file(READ "${IN}" src)
string(REGEX REPLACE "([A-Za-z_][A-Za-z0-9_]*(<[A-Za-z0-9_ ]+>)?)<<<" "dc_emu::launch(\\1, " src "${src}")
string(REPLACE ">>>" ")" src "${src}")
string(REGEX REPLACE "extern __shared__ ([A-Za-z_][A-Za-z0-9_ ]*[A-Za-z0-9_]) ([A-Za-z_][A-Za-z0-9_]*)\\[\\];"
       "\\1* \\2 = (\\1*)dc_emu::dynamic_shared();" src "${src}")
string(REGEX REPLACE "__shared__ ([A-Za-z_][A-Za-z0-9_ ]*[A-Za-z0-9_]) ([A-Za-z_][A-Za-z0-9_]*)((\\[[A-Za-z0-9_ +*]+\\])*);"
       "__shared__ \\1 \\2\\3; dc_emu::fresh_shared(&\\2, sizeof \\2);" src "${src}")
file(WRITE "${OUT}.tmp" "#line 1 \"${IN}\"\n${src}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
