/*
 * shared_library.c -- libdetcgd.so is the static library's objects, whole, behind detcgd.map (the public
 * detcgd_* API only). A CMake target needs a source of its own and ISO C a declaration in it: this file.
 */
#include "detcgd.h"

typedef int detcgd_shared_library;
