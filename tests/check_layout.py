#!/usr/bin/env python3
"""The layout's rules (ARCHITECTURE.md): no include cycles between the host's files; run/ names no method
(it reaches methods through their type tables); the kernels include, from the host side, only the shared
draw code, the compressors' coordinate rules and Philox.  usage: check_layout.py SRC_DIR  (exit 1 naming each breach)"""
import os, re, sys

src = sys.argv[1]
host = os.path.join(src, 'host')
files = {}
for root, _, names in os.walk(src):
    for n in names:
        if n.endswith(('.c', '.h', '.cu', '.cuh')):
            files[n] = os.path.join(root, n)
includes = {n: [m for m in re.findall(r'^#include "([^"]+)"', open(p).read(), re.M)] for n, p in files.items()}
bad = []

# include cycles among headers (a .c file is never included)
graph = {n: [i for i in inc if i in files] for n, inc in includes.items() if n.endswith(('.h', '.cuh'))}
state = {}
def visit(n, path):
    state[n] = 1
    for m in graph.get(n, []):
        if state.get(m) == 1:
            bad.append('include cycle: ' + ' -> '.join(path[path.index(m):] + [m]) if m in path else m)
        elif not state.get(m):
            visit(m, path + [m])
    state[n] = 2
for n in sorted(graph):
    if not state.get(n): visit(n, [n])

# run/ names no method: no method enum, no method's name
methods = re.findall(r'\.name = "([a-z0-9-]+)"', ''.join(open(files[n]).read() for n in files
                                                           if files[n].startswith(os.path.join(host, 'methods'))))
for n, p in files.items():
    if not p.startswith(os.path.join(host, 'run')): continue
    text = open(p).read()
    if 'DETCGD_METHOD_' in text: bad.append('%s names a method (DETCGD_METHOD_)' % n)
    for m in methods:
        if '"%s"' % m in text: bad.append('%s names the method "%s"' % (n, m))

# the host headers the kernels reach, directly or through other headers
allowed = {'sketch_draw.h', 'value_ops.h', 'minibatch.h', 'philox.h'}
for n, p in files.items():
    if not p.startswith(os.path.join(src, 'kernels')): continue
    seen, todo = set(), list(includes[n])
    while todo:
        i = todo.pop()
        if i in seen or i not in files: continue
        seen.add(i)
        todo += includes[i]
        if files[i].startswith(host) and i not in allowed:
            bad.append('kernel file %s reaches the host header %s' % (n, i))

for b in bad: print('FAIL', b)
if not methods: print('FAIL no method names found in methods/ (the check is blind)'); sys.exit(1)
print('ok   %d files: no include cycles, run/ names none of %s, kernels include only %s from the host'
      % (len(files), ', '.join(methods), ', '.join(sorted(allowed))) if not bad else '')
sys.exit(1 if bad else 0)
